//! The global allocator of the fhirreg command-line tool and Python
//! extension: [mimalloc](https://github.com/microsoft/mimalloc).
//!
//! A validation makes many small, short-lived allocations (element
//! children, paths, issue arguments); with mimalloc they cost about half of
//! what they cost with glibc's malloc. The `mimalloc` crate calls
//! `mi_malloc_aligned` for every allocation, whose alignment checks run
//! before the same small-block fast path; [`MiMalloc`] calls the plain
//! `mi_malloc`/`mi_realloc` when the alignment asked for is one every
//! mimalloc block has (8 bytes: all its size classes are multiples of 8),
//! and the aligned entry points otherwise.
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: fhirreg_alloc::MiMalloc = fhirreg_alloc::MiMalloc;
//!
//! let v: Vec<u64> = (0..1000).collect();
//! assert_eq!(v.iter().sum::<u64>(), 499_500);
//! ```
#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use libmimalloc_sys as ffi;

/// The alignment of every block mimalloc returns.
const MIN_ALIGN: usize = 8;

/// mimalloc as a [`GlobalAlloc`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MiMalloc;

// SAFETY: every entry point forwards to mimalloc, which returns blocks of at
// least the requested size with the requested alignment (the plain entry
// points only for alignments of at most MIN_ALIGN, which all its blocks
// have), or null; mi_free takes blocks from any of them.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            ffi::mi_malloc(layout.size()).cast()
        } else {
            ffi::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            ffi::mi_zalloc(layout.size()).cast()
        } else {
            ffi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        ffi::mi_free(ptr.cast::<c_void>());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            ffi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
        } else {
            ffi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every alignment, small and large sizes, zeroed and grown: the block
    /// has the alignment asked for and keeps its contents.
    #[test]
    fn blocks_have_the_alignment_and_keep_their_contents() {
        let a = MiMalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 7, 8, 9, 24, 40, 100, 1000, 70_000, 5 << 20] {
                let layout = Layout::from_size_align(size, align).unwrap();
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xA5, size);
                    let q = a.realloc(p, layout, size * 3);
                    assert!(!q.is_null());
                    assert_eq!(q as usize % align, 0, "realloc size {size} align {align}");
                    assert_eq!(*q, 0xA5);
                    assert_eq!(*q.add(size - 1), 0xA5);
                    a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}

//! UCUM (`http://unitsofmeasure.org`), the units of FHIR Quantities: a
//! parser and validator of unit expressions with the base units, prefixes
//! and the common derived and customary units, each expression reduced to
//! an exact factor over the seven base units (its canonical form), and the
//! conversion of a value between commensurable units.
//!
//! One engine for the workspace: the terminology (the UCUM code system, its
//! `$lookup` and `$validate-code`) and FHIRPath (quantity comparison,
//! arithmetic and `toQuantity()`) both use it. Crates.io has UCUM crates;
//! none fitted as is: they reject annotations with spaces that FHIR's own
//! `ucum-common` value set holds (`{# of fetuses}`), compute in `f64`, or
//! word their errors unlike the HL7 validator's UCUM library, whose wording
//! (`The unit 'mgg' is unknown at character 1`) this one keeps.
//!
//! ```
//! use fhirreg_ucum as ucum;
//! let u = ucum::parse("mg/dL").unwrap();
//! assert_eq!(u.canonical(), "g.m-3");
//! assert_eq!(u.factor.to_string(), "10");
//! assert!(ucum::parse("mgg").is_err());
//! let v = ucum::convert("4000".parse().unwrap(), "mg", "g").unwrap();
//! assert_eq!(v.to_string(), "4");
//! ```

mod number;

use std::collections::HashMap;
use std::sync::OnceLock;

use rust_decimal::Decimal;

pub use number::Number;

/// Exponents of the base units, in the order m, s, g, rad, K, C, cd.
pub type Dims = [i32; 7];

const BASE: [&str; 7] = ["m", "s", "g", "rad", "K", "C", "cd"];

/// A validated UCUM unit expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The expression as given.
    pub code: String,
    /// The magnitude of one of this unit in canonical base units (exact
    /// to 28 significant digits).
    pub factor: Number,
    /// Exponents of the base units.
    pub dims: Dims,
    /// Whether the expression uses an arbitrary or special (non-ratio) unit,
    /// so that `factor` is not a conversion factor.
    pub special: bool,
}

impl Unit {
    /// The canonical base-unit form, e.g. `g.m-3` for `mg/dL`, `1` for
    /// dimensionless.
    pub fn canonical(&self) -> String {
        canonical_unit(&self.dims)
    }
}

/// Why a unit expression is not valid UCUM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UcumError {
    /// Human readable reason, naming the offending part.
    pub message: String,
}

fn err<T>(message: impl Into<String>) -> Result<T, UcumError> {
    Err(UcumError {
        message: message.into(),
    })
}

/// A unit atom: whether it takes prefixes, and its name.
struct Atom {
    metric: bool,
    name: &'static str,
}

const PREFIXES: &[(&str, f64)] = &[
    ("da", 1e1),
    ("Ki", 1024.0),
    ("Mi", 1_048_576.0),
    ("Gi", 1_073_741_824.0),
    ("Ti", 1_099_511_627_776.0),
    ("Y", 1e24),
    ("Z", 1e21),
    ("E", 1e18),
    ("P", 1e15),
    ("T", 1e12),
    ("G", 1e9),
    ("M", 1e6),
    ("k", 1e3),
    ("h", 1e2),
    ("d", 1e-1),
    ("c", 1e-2),
    ("m", 1e-3),
    ("u", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
    ("f", 1e-15),
    ("a", 1e-18),
    ("z", 1e-21),
    ("y", 1e-24),
];

// (code, metric, factor, definition, name); definitions use only earlier units.
#[rustfmt::skip]
const UNITS: &[(&str, bool, f64, &str, &str)] = &[
    // base units
    ("m", true, 1.0, "", "meter"), ("s", true, 1.0, "", "second"), ("g", true, 1.0, "", "gram"),
    ("rad", true, 1.0, "", "radian"), ("K", true, 1.0, "", "kelvin"), ("C", true, 1.0, "", "coulomb"),
    ("cd", true, 1.0, "", "candela"),
    // dimensionless
    ("10*", false, 10.0, "1", "the number ten for arbitrary powers"),
    ("10^", false, 10.0, "1", "the number ten for arbitrary powers"),
    ("[pi]", false, std::f64::consts::PI, "1", "the number pi"),
    ("%", false, 1e-2, "1", "percent"), ("[ppth]", false, 1e-3, "1", "parts per thousand"),
    ("[ppm]", false, 1e-6, "1", "parts per million"), ("[ppb]", false, 1e-9, "1", "parts per billion"),
    ("[pptr]", false, 1e-12, "1", "parts per trillion"),
    // SI
    ("mol", true, 6.022_136_7e23, "1", "mole"), ("sr", true, 1.0, "rad2", "steradian"),
    ("Hz", true, 1.0, "s-1", "hertz"), ("N", true, 1.0, "kg.m/s2", "newton"),
    ("Pa", true, 1.0, "N/m2", "pascal"), ("J", true, 1.0, "N.m", "joule"), ("W", true, 1.0, "J/s", "watt"),
    ("A", true, 1.0, "C/s", "ampere"), ("Bi", true, 10.0, "A", "biot"), ("V", true, 1.0, "J/C", "volt"), ("F", true, 1.0, "C/V", "farad"),
    ("Ohm", true, 1.0, "V/A", "ohm"), ("S", true, 1.0, "Ohm-1", "siemens"), ("Wb", true, 1.0, "V.s", "weber"),
    ("Cel", true, 1.0, "K", "degree Celsius"), ("T", true, 1.0, "Wb/m2", "tesla"), ("H", true, 1.0, "Wb/A", "henry"),
    ("lm", true, 1.0, "cd.sr", "lumen"), ("lx", true, 1.0, "lm/m2", "lux"), ("Bq", true, 1.0, "s-1", "becquerel"),
    ("Gy", true, 1.0, "J/kg", "gray"), ("Sv", true, 1.0, "J/kg", "sievert"),
    // ISO 1000 and others
    ("gon", false, 0.9, "deg", "gon"), ("deg", false, 2.0, "[pi].rad/360", "degree"),
    ("'", false, 1.0, "deg/60", "minute (angle)"), ("''", false, 1.0, "'/60", "second (angle)"),
    ("l", true, 1.0, "dm3", "liter"), ("L", true, 1.0, "l", "liter"), ("ar", true, 100.0, "m2", "are"),
    ("min", false, 60.0, "s", "minute"), ("h", false, 60.0, "min", "hour"), ("d", false, 24.0, "h", "day"),
    ("a_t", false, 365.242_19, "d", "tropical year"), ("a_j", false, 365.25, "d", "mean Julian year"),
    ("a_g", false, 365.2425, "d", "mean Gregorian year"), ("a", false, 1.0, "a_j", "year"),
    ("wk", false, 7.0, "d", "week"), ("mo_s", false, 29.530_59, "d", "synodal month"),
    ("mo_j", false, 1.0, "a_j/12", "mean Julian month"), ("mo_g", false, 1.0, "a_g/12", "mean Gregorian month"),
    ("mo", false, 1.0, "mo_j", "month"), ("t", true, 1e3, "kg", "tonne"), ("bar", true, 1e5, "Pa", "bar"),
    ("u", true, 1.660_540_2e-24, "g", "unified atomic mass unit"),
    ("AU", false, 149_597.870_691, "Mm", "astronomic unit"), ("pc", true, 3.085_678e16, "m", "parsec"),
    // constants
    ("[c]", true, 299_792_458.0, "m/s", "velocity of light"), ("[h]", true, 6.626_075_5e-34, "J.s", "Planck constant"),
    ("[k]", true, 1.380_658e-23, "J/K", "Boltzmann constant"), ("[eps_0]", true, 8.854_187_817e-12, "F/m", "permittivity of vacuum"),
    ("[mu_0]", true, 1.0, "4.[pi].10*-7.N/A2", "permeability of vacuum"),
    ("[e]", true, 1.602_177_33e-19, "C", "elementary charge"), ("eV", true, 1.0, "[e].V", "electronvolt"),
    ("[m_e]", true, 9.109_389_7e-28, "g", "electron mass"), ("[m_p]", true, 1.672_623_1e-24, "g", "proton mass"),
    ("[G]", true, 6.672_59e-11, "m3.kg-1.s-2", "Newtonian constant of gravitation"),
    ("[g]", true, 9.806_65, "m/s2", "standard acceleration of free fall"), ("atm", false, 101_325.0, "Pa", "standard atmosphere"),
    ("[ly]", true, 1.0, "[c].a_j", "light-year"), ("gf", true, 1.0, "g.[g]", "gram-force"),
    // CGS
    ("Ky", true, 1.0, "cm-1", "Kayser"), ("Gal", true, 1.0, "cm/s2", "Gal"), ("dyn", true, 1.0, "g.cm/s2", "dyne"),
    ("erg", true, 1.0, "dyn.cm", "erg"), ("P", true, 1.0, "dyn.s/cm2", "poise"), ("St", true, 1.0, "cm2/s", "stokes"),
    ("Mx", true, 1e-8, "Wb", "maxwell"), ("G", true, 1e-4, "T", "gauss"), ("Oe", true, 250.0, "/[pi].A/m", "oersted"),
    ("Gb", true, 1.0, "Oe.cm", "gilbert"), ("sb", true, 1.0, "cd/cm2", "stilb"), ("Lmb", true, 1.0, "cd/cm2/[pi]", "lambert"),
    ("ph", true, 1e-4, "lx", "phot"), ("Ci", true, 3.7e10, "Bq", "curie"), ("R", true, 2.58e-4, "C/kg", "roentgen"),
    ("RAD", true, 100.0, "erg/g", "radiation absorbed dose"), ("REM", true, 1.0, "RAD", "radiation equivalent man"),
    // international customary
    ("[in_i]", false, 2.54, "cm", "inch"), ("[ft_i]", false, 12.0, "[in_i]", "foot"), ("[yd_i]", false, 3.0, "[ft_i]", "yard"),
    ("[mi_i]", false, 5280.0, "[ft_i]", "mile"), ("[fth_i]", false, 6.0, "[ft_i]", "fathom"),
    ("[nmi_i]", false, 1852.0, "m", "nautical mile"), ("[kn_i]", false, 1.0, "[nmi_i]/h", "knot"),
    ("[sin_i]", false, 1.0, "[in_i]2", "square inch"), ("[sft_i]", false, 1.0, "[ft_i]2", "square foot"),
    ("[syd_i]", false, 1.0, "[yd_i]2", "square yard"), ("[cin_i]", false, 1.0, "[in_i]3", "cubic inch"),
    ("[cft_i]", false, 1.0, "[ft_i]3", "cubic foot"), ("[cyd_i]", false, 1.0, "[yd_i]3", "cubic yard"),
    ("[bf_i]", false, 144.0, "[in_i]3", "board foot"), ("[cr_i]", false, 128.0, "[ft_i]3", "cord"),
    ("[mil_i]", false, 1e-3, "[in_i]", "mil"), ("[cml_i]", false, 1.0, "[pi]/4.[mil_i]2", "circular mil"),
    ("[hd_i]", false, 4.0, "[in_i]", "hand"),
    // US survey and volumes
    ("[ft_us]", false, 1200.0, "m/3937", "foot (US survey)"), ("[yd_us]", false, 3.0, "[ft_us]", "yard (US survey)"),
    ("[in_us]", false, 1.0, "[ft_us]/12", "inch (US survey)"), ("[rd_us]", false, 16.5, "[ft_us]", "rod"),
    ("[mi_us]", false, 5280.0, "[ft_us]", "mile (US survey)"), ("[acr_us]", false, 160.0, "[rd_us]2", "acre"),
    ("[gal_us]", false, 231.0, "[in_i]3", "Queen Anne's wine gallon"), ("[bbl_us]", false, 42.0, "[gal_us]", "barrel"),
    ("[qt_us]", false, 1.0, "[gal_us]/4", "quart"), ("[pt_us]", false, 1.0, "[qt_us]/2", "pint"),
    ("[gil_us]", false, 1.0, "[pt_us]/4", "gill"), ("[foz_us]", false, 1.0, "[gil_us]/4", "fluid ounce"),
    ("[fdr_us]", false, 1.0, "[foz_us]/8", "fluid dram"), ("[min_us]", false, 1.0, "[fdr_us]/60", "minim"),
    ("[crd_us]", false, 128.0, "[ft_i]3", "cord"), ("[bu_us]", false, 2150.42, "[in_i]3", "bushel"),
    ("[gal_wi]", false, 1.0, "[bu_us]/8", "historical winchester gallon"), ("[pk_us]", false, 1.0, "[bu_us]/4", "peck"),
    ("[dqt_us]", false, 1.0, "[pk_us]/8", "dry quart"), ("[dpt_us]", false, 1.0, "[dqt_us]/2", "dry pint"),
    ("[tbs_us]", false, 1.0, "[foz_us]/2", "tablespoon"), ("[tsp_us]", false, 1.0, "[tbs_us]/3", "teaspoon"),
    ("[cup_us]", false, 16.0, "[tbs_us]", "cup"), ("[foz_m]", false, 30.0, "mL", "metric fluid ounce"),
    ("[cup_m]", false, 240.0, "mL", "metric cup"), ("[tsp_m]", false, 5.0, "mL", "metric teaspoon"),
    ("[tbs_m]", false, 15.0, "mL", "metric tablespoon"),
    // British
    ("[in_br]", false, 2.539_998, "cm", "inch (British)"), ("[ft_br]", false, 12.0, "[in_br]", "foot (British)"),
    ("[yd_br]", false, 3.0, "[ft_br]", "yard (British)"), ("[mi_br]", false, 5280.0, "[ft_br]", "mile (British)"),
    ("[gal_br]", false, 4.546_09, "l", "gallon (British)"), ("[pk_br]", false, 2.0, "[gal_br]", "peck (British)"),
    ("[bu_br]", false, 4.0, "[pk_br]", "bushel (British)"), ("[qt_br]", false, 1.0, "[gal_br]/4", "quart (British)"),
    ("[pt_br]", false, 1.0, "[qt_br]/2", "pint (British)"), ("[gil_br]", false, 1.0, "[pt_br]/4", "gill (British)"),
    ("[foz_br]", false, 1.0, "[gil_br]/5", "fluid ounce (British)"), ("[fdr_br]", false, 1.0, "[foz_br]/8", "fluid dram (British)"),
    ("[min_br]", false, 1.0, "[fdr_br]/60", "minim (British)"),
    ("[rd_br]", false, 16.5, "[ft_br]", "rod (British)"), ("[ch_br]", false, 4.0, "[rd_br]", "Gunter's chain (British)"),
    ("[lk_br]", false, 1.0, "[ch_br]/100", "link for Gunter's chain (British)"), ("[fth_br]", false, 6.0, "[ft_br]", "fathom (British)"),
    ("[pc_br]", false, 2.5, "[ft_br]", "pace (British)"), ("[nmi_br]", false, 6080.0, "[ft_br]", "nautical mile (British)"),
    ("[kn_br]", false, 1.0, "[nmi_br]/h", "knot (British)"), ("[acr_br]", false, 4840.0, "[yd_br]2", "acre (British)"),
    ("[ch_us]", false, 4.0, "[rd_us]", "Gunter's chain"), ("[lk_us]", false, 1.0, "[ch_us]/100", "link for Gunter's chain"),
    ("[rch_us]", false, 100.0, "[ft_us]", "Ramden's chain"), ("[rlk_us]", false, 1.0, "[rch_us]/100", "link for Ramden's chain"),
    ("[fth_us]", false, 6.0, "[ft_us]", "fathom (US survey)"), ("[fur_us]", false, 40.0, "[rd_us]", "furlong"),
    ("[mil_us]", false, 1e-3, "[in_us]", "mil (US survey)"), ("[srd_us]", false, 1.0, "[rd_us]2", "square rod"),
    ("[smi_us]", false, 1.0, "[mi_us]2", "square mile"), ("[sct]", false, 1.0, "[mi_us]2", "section"),
    ("[twp]", false, 36.0, "[sct]", "township"),
    ("[pied]", false, 32.48, "cm", "pied"), ("[pouce]", false, 1.0, "[pied]/12", "pouce"),
    ("[ligne]", false, 1.0, "[pouce]/12", "ligne"), ("[didot]", false, 1.0, "[ligne]/6", "didot"),
    ("[cicero]", false, 12.0, "[didot]", "cicero"), ("[pnt_pr]", false, 0.013_837, "[in_i]", "Printer's point"),
    ("[pca_pr]", false, 12.0, "[pnt_pr]", "Printer's pica"),
    // avoirdupois, troy, apothecaries
    ("[gr]", false, 64.798_91, "mg", "grain"), ("[lb_av]", false, 7000.0, "[gr]", "pound"),
    ("[oz_av]", false, 1.0, "[lb_av]/16", "ounce"), ("[dr_av]", false, 1.0, "[oz_av]/16", "dram"),
    ("[scwt_av]", false, 100.0, "[lb_av]", "short hundredweight"), ("[lcwt_av]", false, 112.0, "[lb_av]", "long hundredweight"),
    ("[ston_av]", false, 20.0, "[scwt_av]", "short ton"), ("[lton_av]", false, 20.0, "[lcwt_av]", "long ton"),
    ("[stone_av]", false, 14.0, "[lb_av]", "stone"), ("[lbf_av]", false, 1.0, "[lb_av].[g]", "pound force"),
    ("[pwt_tr]", false, 24.0, "[gr]", "pennyweight"), ("[oz_tr]", false, 20.0, "[pwt_tr]", "ounce (troy)"),
    ("[lb_tr]", false, 12.0, "[oz_tr]", "pound (troy)"), ("[sc_ap]", false, 20.0, "[gr]", "scruple"),
    ("[dr_ap]", false, 3.0, "[sc_ap]", "dram (apothecary)"), ("[oz_ap]", false, 8.0, "[dr_ap]", "ounce (apothecary)"),
    ("[lb_ap]", false, 12.0, "[oz_ap]", "pound (apothecary)"), ("[oz_m]", false, 28.0, "g", "metric ounce"),
    ("[car_m]", false, 0.2, "g", "metric carat"), ("[car_Au]", false, 1.0, "/24", "carat of gold alloys"),
    ("[psi]", false, 1.0, "[lbf_av]/[in_i]2", "pound per square inch"),
    ("[smoot]", false, 67.0, "[in_i]", "Smoot"), ("[lne]", false, 1.0, "[in_i]/12", "line"),
    ("[pnt]", false, 1.0, "[lne]/6", "point"), ("[pca]", false, 12.0, "[pnt]", "pica"),
    // heat
    ("[degF]", false, 5.0, "K/9", "degree Fahrenheit"), ("[degR]", false, 5.0, "K/9", "degree Rankine"),
    ("[degRe]", false, 5.0, "K/4", "degree Reaumur"),
    ("cal_[15]", true, 4.185_80, "J", "calorie at 15 °C"), ("cal_[20]", true, 4.181_90, "J", "calorie at 20 °C"),
    ("cal_m", true, 4.190_02, "J", "mean calorie"), ("cal_IT", true, 4.1868, "J", "international table calorie"),
    ("cal_th", true, 4.184, "J", "thermochemical calorie"), ("cal", true, 1.0, "cal_th", "calorie"),
    ("[Cal]", false, 1.0, "kcal_th", "nutrition label Calories"),
    ("[Btu_39]", false, 1.059_67, "kJ", "British thermal unit at 39 °F"), ("[Btu_59]", false, 1.054_80, "kJ", "British thermal unit at 59 °F"),
    ("[Btu_60]", false, 1.054_68, "kJ", "British thermal unit at 60 °F"), ("[Btu_m]", false, 1.055_87, "kJ", "mean British thermal unit"),
    ("[Btu_IT]", false, 1.055_055_852_62, "kJ", "international table British thermal unit"),
    ("[Btu_th]", false, 1.054_350, "kJ", "thermochemical British thermal unit"), ("[Btu]", false, 1.0, "[Btu_th]", "British thermal unit"),
    ("[HP]", false, 550.0, "[ft_i].[lbf_av]/s", "horsepower"), ("tex", true, 1.0, "g/km", "tex"), ("[den]", false, 1.0, "g/9/km", "Denier"),
    // clinical
    ("m[H2O]", true, 9.806_65, "kPa", "meter of water column"), ("m[Hg]", true, 133.322, "kPa", "meter of mercury column"),
    ("[in_i'H2O]", false, 1.0, "m[H2O].[in_i]/m", "inch of water column"), ("[in_i'Hg]", false, 1.0, "m[Hg].[in_i]/m", "inch of mercury column"),
    ("[PRU]", false, 1.0, "mm[Hg].s/ml", "peripheral vascular resistance unit"),
    ("[wood'U]", false, 1.0, "mm[Hg].min/L", "Wood unit"), ("[diop]", false, 1.0, "/m", "diopter"),
    ("[p'diop]", false, 1.0, "1", "prism diopter"), ("%[slope]", false, 1.0, "1", "percent of slope"),
    ("[mesh_i]", false, 1.0, "/[in_i]", "mesh"), ("[Ch]", false, 1.0, "mm/3", "Charriere"),
    ("[drp]", false, 1.0, "ml/20", "drop"), ("[hnsf'U]", false, 1.0, "1", "Hounsfield unit"),
    ("[MET]", false, 3.5, "mL/min/kg", "metabolic equivalent"),
    ("[hp'_X]", false, 1.0, "1", "homeopathic potency of decimal series"), ("[hp'_C]", false, 1.0, "1", "homeopathic potency of centesimal series"),
    ("[hp'_M]", false, 1.0, "1", "homeopathic potency of millesimal series"), ("[hp'_Q]", false, 1.0, "1", "homeopathic potency of quintamillesimal series"),
    ("[hp_X]", false, 1.0, "1", "homeopathic potency of decimal hahnemannian series"), ("[hp_C]", false, 1.0, "1", "homeopathic potency of centesimal hahnemannian series"),
    ("[hp_M]", false, 1.0, "1", "homeopathic potency of millesimal hahnemannian series"), ("[hp_Q]", false, 1.0, "1", "homeopathic potency of quintamillesimal hahnemannian series"),
    ("[kp_X]", false, 1.0, "1", "homeopathic potency of decimal korsakovian series"), ("[kp_C]", false, 1.0, "1", "homeopathic potency of centesimal korsakovian series"),
    ("[kp_M]", false, 1.0, "1", "homeopathic potency of millesimal korsakovian series"), ("[kp_Q]", false, 1.0, "1", "homeopathic potency of quintamillesimal korsakovian series"),
    ("eq", true, 1.0, "mol", "equivalents"), ("osm", true, 1.0, "mol", "osmole"),
    ("[pH]", false, 1.0, "mol/l", "pH"), ("g%", true, 1.0, "g/dl", "gram percent"),
    ("[S]", false, 1.0, "10*-13.s", "Svedberg unit"), ("[HPF]", false, 1.0, "1", "high power field"),
    ("[LPF]", false, 100.0, "1", "low power field"), ("kat", true, 1.0, "mol/s", "katal"),
    ("U", true, 1.0, "umol/min", "Unit"), ("[iU]", true, 1.0, "1", "international unit"),
    ("[IU]", true, 1.0, "[iU]", "international unit"), ("[arb'U]", false, 1.0, "1", "arbitrary unit"),
    ("[USP'U]", false, 1.0, "1", "United States Pharmacopeia unit"), ("[GPL'U]", false, 1.0, "1", "GPL unit"),
    ("[MPL'U]", false, 1.0, "1", "MPL unit"), ("[APL'U]", false, 1.0, "1", "APL unit"),
    ("[beth'U]", false, 1.0, "1", "Bethesda unit"), ("[anti'Xa'U]", false, 1.0, "1", "anti factor Xa unit"),
    ("[todd'U]", false, 1.0, "1", "Todd unit"), ("[dye'U]", false, 1.0, "1", "Dye unit"),
    ("[smgy'U]", false, 1.0, "1", "Somogyi unit"), ("[bdsk'U]", false, 1.0, "1", "Bodansky unit"),
    ("[ka'U]", false, 1.0, "1", "King-Armstrong unit"), ("[knk'U]", false, 1.0, "1", "Kunkel unit"),
    ("[mclg'U]", false, 1.0, "1", "Mac Lagan unit"), ("[tb'U]", false, 1.0, "1", "tuberculin unit"),
    ("[CCID_50]", false, 1.0, "1", "50% cell culture infectious dose"), ("[TCID_50]", false, 1.0, "1", "50% tissue culture infectious dose"),
    ("[EID_50]", false, 1.0, "1", "50% embryo infectious dose"), ("[PFU]", false, 1.0, "1", "plaque forming units"),
    ("[FFU]", false, 1.0, "1", "focus forming units"), ("[CFU]", false, 1.0, "1", "colony forming units"),
    ("[IR]", false, 1.0, "1", "index of reactivity"), ("[BAU]", false, 1.0, "1", "bioequivalent allergen unit"),
    ("[AU]", false, 1.0, "1", "allergen unit"), ("[Amb'a'1'U]", false, 1.0, "1", "allergen unit for Ambrosia artemisiifolia"),
    ("[PNU]", false, 1.0, "1", "protein nitrogen unit"), ("[Lf]", false, 1.0, "1", "Limit of flocculation"),
    ("[D'ag'U]", false, 1.0, "1", "D-antigen unit"), ("[FEU]", false, 1.0, "1", "fibrinogen equivalent unit"),
    ("[ELU]", false, 1.0, "1", "ELISA unit"), ("[EU]", false, 1.0, "1", "Ehrlich unit"),
    // misc
    ("st", true, 1.0, "m3", "stere"), ("Ao", false, 0.1, "nm", "Angstrom"), ("b", false, 100.0, "fm2", "barn"),
    ("att", false, 1.0, "kgf/cm2", "technical atmosphere"), ("mho", true, 1.0, "S", "mho"),
    ("circ", false, 2.0, "[pi].rad", "circle"), ("sph", false, 4.0, "[pi].sr", "spere"),
    ("Np", true, 1.0, "1", "neper"), ("B", true, 1.0, "1", "bel"), ("B[SPL]", true, 2.0, "10*-5.Pa", "bel sound pressure"),
    ("B[V]", true, 1.0, "V", "bel volt"), ("B[mV]", true, 1.0, "mV", "bel millivolt"), ("B[uV]", true, 1.0, "uV", "bel microvolt"),
    ("B[10.nV]", true, 10.0, "nV", "bel 10 nanovolt"), ("B[W]", true, 1.0, "W", "bel watt"), ("B[kW]", true, 1.0, "kW", "bel kilowatt"),
    ("bit_s", false, 1.0, "1", "bit"), ("bit", true, 1.0, "1", "bit"), ("By", true, 8.0, "bit", "byte"), ("Bd", true, 1.0, "/s", "baud"),
];

/// Units whose value is not a plain ratio (temperatures, logarithms, arbitrary units).
fn is_special(code: &str) -> bool {
    matches!(
        code,
        "Cel" | "[degF]" | "[degRe]" | "[pH]" | "Np" | "B" | "bit_s" | "[p'diop]" | "%[slope]"
    ) || code.starts_with("B[")
        || code.starts_with("[hp")
        || code.starts_with("[kp")
        || code.ends_with("U]")
        || matches!(
            code,
            "[iU]"
                | "[CCID_50]"
                | "[TCID_50]"
                | "[EID_50]"
                | "[PFU]"
                | "[FFU]"
                | "[CFU]"
                | "[IR]"
                | "[BAU]"
                | "[AU]"
                | "[PNU]"
                | "[Lf]"
                | "[FEU]"
                | "[ELU]"
                | "[EU]"
        )
}

fn prefix_values() -> &'static [(&'static str, Number)] {
    static VALUES: OnceLock<Vec<(&'static str, Number)>> = OnceLock::new();
    VALUES.get_or_init(|| {
        PREFIXES
            .iter()
            .map(|&(p, f)| (p, Number::from_f64(f)))
            .collect()
    })
}

fn atoms() -> &'static HashMap<&'static str, Atom> {
    static ATOMS: OnceLock<HashMap<&'static str, Atom>> = OnceLock::new();
    ATOMS.get_or_init(|| {
        UNITS
            .iter()
            .map(|&(code, metric, _, _, name)| (code, Atom { metric, name }))
            .collect()
    })
}

/// The resolved value of each atom: (factor, dims, special).
fn atom_values() -> &'static HashMap<&'static str, Value3> {
    static VALUES: OnceLock<HashMap<&'static str, Value3>> = OnceLock::new();
    VALUES.get_or_init(|| {
        let mut out: HashMap<&'static str, Value3> = HashMap::new();
        for &(code, _, factor, def, _) in UNITS {
            let factor = Number::from_f64(factor);
            let value = if def.is_empty() {
                let mut dims = [0; 7];
                if let Some(pos) = BASE.iter().position(|b| *b == code) {
                    dims[pos] = 1;
                }
                Value3 {
                    factor,
                    dims,
                    special: false,
                }
            } else {
                match eval_expr(def, &out) {
                    Ok(v) => Value3 {
                        factor: factor * v.factor,
                        dims: v.dims,
                        special: v.special || is_special(code),
                    },
                    // Unreachable with a consistent table; keep the unit usable.
                    Err(_) => Value3 {
                        factor,
                        dims: [0; 7],
                        special: true,
                    },
                }
            };
            out.insert(code, value);
        }
        out
    })
}

/// A unit expression's value: its factor, dimensions and whether it is special.
#[derive(Clone, Copy)]
struct Value3 {
    factor: Number,
    dims: Dims,
    special: bool,
}

impl Value3 {
    /// The number one.
    const ONE: Value3 = Value3 {
        factor: Number::ONE,
        dims: [0; 7],
        special: false,
    };
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    values: &'a HashMap<&'static str, Value3>,
    depth: usize,
}

fn eval_expr(expr: &str, values: &HashMap<&'static str, Value3>) -> Result<Value3, UcumError> {
    let mut p = Parser {
        s: expr.as_bytes(),
        src: expr,
        pos: 0,
        values,
        depth: 0,
    };
    p.main_term()
}

fn combine(a: Value3, b: Value3, divide: bool) -> Value3 {
    let mut dims = a.dims;
    for (d, e) in dims.iter_mut().zip(b.dims) {
        *d = if divide { *d - e } else { *d + e };
    }
    Value3 {
        factor: if divide {
            a.factor / b.factor
        } else {
            a.factor * b.factor
        },
        dims,
        special: a.special || b.special,
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn main_term(&mut self) -> Result<Value3, UcumError> {
        if self.s.is_empty() {
            return err("The unit is empty");
        }
        // A leading solidus inverts the component after it (`/[pi].A/m`
        // in the oersted's definition is A/([pi].m)).
        let inverse = self.peek() == Some(b'/');
        if inverse {
            self.pos += 1;
        }
        let v = self.term(inverse)?;
        if self.pos < self.s.len() {
            return err(format!(
                "Unexpected character '{}' at position {} in '{}'",
                self.src
                    .get(self.pos..)
                    .and_then(|r| r.chars().next())
                    .unwrap_or('?'),
                self.pos + 1,
                self.src
            ));
        }
        Ok(v)
    }

    /// Components joined by `.` and `/`, the first one inverted when `inverse`.
    fn term(&mut self, inverse: bool) -> Result<Value3, UcumError> {
        self.depth += 1;
        if self.depth > 64 {
            return err("The unit is nested too deeply");
        }
        let mut v = self.component()?;
        if inverse {
            v = combine(Value3::ONE, v, true);
        }
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.pos += 1;
                    let c = self.component()?;
                    v = combine(v, c, false);
                }
                Some(b'/') => {
                    self.pos += 1;
                    let c = self.component()?;
                    v = combine(v, c, true);
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(v)
    }

    fn annotation(&mut self) -> Result<(), UcumError> {
        // at '{'
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'}' => return Ok(()),
                b'{' => return err(format!("Nested '{{' in the annotation in '{}'", self.src)),
                32..=126 => {}
                _ => {
                    return err(format!(
                        "Invalid character in the annotation at position {} in '{}'",
                        self.pos, self.src
                    ))
                }
            }
        }
        err(format!(
            "Unterminated annotation starting at position {} in '{}'",
            start + 1,
            self.src
        ))
    }

    fn component(&mut self) -> Result<Value3, UcumError> {
        match self.peek() {
            None => err(format!("Missing unit at the end of '{}'", self.src)),
            Some(b'{') => {
                self.annotation()?;
                Ok(Value3::ONE)
            }
            Some(b'(') => {
                self.pos += 1;
                let v = self.term(false)?;
                if self.peek() != Some(b')') {
                    return err(format!("Missing ')' in '{}'", self.src));
                }
                self.pos += 1;
                let v = self.exponent(v)?;
                if self.peek() == Some(b'{') {
                    self.annotation()?;
                }
                Ok(v)
            }
            Some(b'.' | b'/' | b')') => err(format!(
                "Missing unit at position {} in '{}'",
                self.pos + 1,
                self.src
            )),
            Some(_) => {
                let v = self.simple_unit()?;
                if self.peek() == Some(b'{') {
                    self.annotation()?;
                }
                Ok(v)
            }
        }
    }

    fn exponent(&mut self, v: Value3) -> Result<Value3, UcumError> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let digits = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == digits {
            self.pos = start;
            return Ok(v);
        }
        let text = self.src.get(start..self.pos).unwrap_or("1");
        let e: i32 = text
            .trim_start_matches('+')
            .parse()
            .map_err(|_| UcumError {
                message: format!("Invalid exponent '{text}' in '{}'", self.src),
            })?;
        Ok(pow(v, e))
    }

    /// A unit token: everything up to `.`, `/`, `(`, `)`, `{` outside brackets.
    fn simple_unit(&mut self) -> Result<Value3, UcumError> {
        let start = self.pos;
        let mut depth = 0i32;
        while let Some(c) = self.peek() {
            match c {
                b'[' => depth += 1,
                b']' => depth -= 1,
                b'.' | b'/' | b'(' | b')' | b'{' if depth == 0 => break,
                b' ' => {
                    return err(format!(
                        "The unit '{}' contains a space at position {}",
                        self.src,
                        self.pos + 1
                    ))
                }
                33..=126 => {}
                _ => {
                    return err(format!(
                        "The unit '{}' contains an invalid character at position {}",
                        self.src,
                        self.pos + 1
                    ))
                }
            }
            if depth < 0 {
                return err(format!("Unbalanced ']' in '{}'", self.src));
            }
            self.pos += 1;
        }
        if depth != 0 {
            return err(format!("Unbalanced '[' in '{}'", self.src));
        }
        let token = self.src.get(start..self.pos).unwrap_or("");
        if token.is_empty() {
            return err(format!("Missing unit in '{}'", self.src));
        }
        // a pure integer factor
        if token.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Value3 {
                factor: Number::parse(token).unwrap_or(Number::ONE),
                ..Value3::ONE
            });
        }
        // split a trailing exponent (outside brackets)
        let bytes = token.as_bytes();
        let mut cut = bytes.len();
        while cut > 0 && bytes.get(cut - 1).is_some_and(u8::is_ascii_digit) {
            cut -= 1;
        }
        if cut < bytes.len() && cut > 0 && matches!(bytes.get(cut - 1), Some(b'+' | b'-')) {
            cut -= 1;
        }
        let (atom_part, exp_part) = token.split_at(cut);
        // Whole token as an atom first (atoms like `10*` never end in digits,
        // but e.g. `[in_i'H2O]` carries digits inside brackets only).
        let (atom, exp) = if exp_part.is_empty() {
            (token, 1)
        } else {
            let e: i32 = exp_part
                .trim_start_matches('+')
                .parse()
                .map_err(|_| UcumError {
                    message: format!("Invalid exponent '{exp_part}' in '{}'", self.src),
                })?;
            (atom_part, e)
        };
        let v = self.resolve_atom(atom, start)?;
        Ok(pow(v, exp))
    }

    fn resolve_atom(&self, atom: &str, start: usize) -> Result<Value3, UcumError> {
        if let Some(&v) = self.values.get(atom) {
            return Ok(v);
        }
        let table = atoms();
        for &(p, pf) in prefix_values() {
            if let Some(rest) = atom.strip_prefix(p) {
                if let (Some(a), Some(&v)) = (table.get(rest), self.values.get(rest)) {
                    if a.metric {
                        return Ok(Value3 {
                            factor: pf * v.factor,
                            ..v
                        });
                    }
                }
            }
        }
        err(format!(
            "The unit '{atom}' is unknown at character {}",
            start + 1
        ))
    }
}

fn pow(v: Value3, e: i32) -> Value3 {
    let mut dims = v.dims;
    for d in dims.iter_mut() {
        *d = d.saturating_mul(e);
    }
    Value3 {
        factor: v.factor.powi(e),
        dims,
        special: v.special,
    }
}

/// The canonical unit of base-unit exponents: `g.m-3`, `s-1`, `1` for none
/// (gram first, as UCUM tools print it, then the others in base order).
pub fn canonical_unit(dims: &Dims) -> String {
    let order = [2usize, 0, 1, 3, 4, 5, 6];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|&i| {
            let e = *dims.get(i)?;
            let b = BASE.get(i)?;
            match e {
                0 => None,
                1 => Some((*b).to_owned()),
                _ => Some(format!("{b}{e}")),
            }
        })
        .collect();
    if parts.is_empty() {
        "1".to_owned()
    } else {
        parts.join(".")
    }
}

/// Parse and validate a UCUM expression (case sensitive form).
pub fn parse(code: &str) -> Result<Unit, UcumError> {
    if code.len() > 1024 {
        return err("The unit is too long");
    }
    let v = eval_expr(code, atom_values())?;
    Ok(Unit {
        code: code.to_owned(),
        factor: v.factor,
        dims: v.dims,
        special: v.special,
    })
}

/// `value` in unit `from` converted to unit `to`, exactly (to 28
/// significant digits): `None` when either is not valid UCUM, they are not
/// commensurable, either is a special unit (a temperature, a logarithm, an
/// arbitrary unit), or the result does not fit a decimal.
pub fn convert(value: Decimal, from: &str, to: &str) -> Option<Decimal> {
    let from = parse(from).ok()?;
    let to = parse(to).ok()?;
    if from.special || to.special || from.dims != to.dims || to.factor.is_zero() {
        return None;
    }
    let ratio = from.factor / to.factor;
    (Number::from_decimal(value) * ratio)
        .to_decimal()
        .map(|d| d.normalize())
}

/// A readable name for a unit expression, e.g. `milligram / deciliter`.
pub fn display(code: &str) -> Option<String> {
    parse(code).ok()?;
    let table = atoms();
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.is_empty() {
            return;
        }
        let t = token.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
        let exp = &token[t.len()..];
        let name = if let Some(a) = table.get(t) {
            a.name.to_owned()
        } else if let Some((p, a)) = PREFIXES
            .iter()
            .find_map(|(p, _)| Some((*p, table.get(t.strip_prefix(p)?)?)))
        {
            format!("{}{}", prefix_name(p), a.name)
        } else {
            t.to_owned()
        };
        out.push_str(&name);
        if !exp.is_empty() {
            out.push('^');
            out.push_str(exp);
        }
        token.clear();
    };
    let mut depth = 0;
    for c in code.chars() {
        match c {
            '{' | '[' => {
                depth += 1;
                token.push(c);
            }
            '}' | ']' => {
                depth -= 1;
                token.push(c);
            }
            '.' | '/' | '(' | ')' if depth == 0 => {
                flush(&mut token, &mut out);
                out.push_str(match c {
                    '.' => " * ",
                    '/' => " / ",
                    '(' => "(",
                    _ => ")",
                });
            }
            _ => token.push(c),
        }
    }
    flush(&mut token, &mut out);
    Some(out.trim().to_owned())
}

fn prefix_name(p: &str) -> &'static str {
    match p {
        "Y" => "yotta",
        "Z" => "zetta",
        "E" => "exa",
        "P" => "peta",
        "T" => "tera",
        "G" => "giga",
        "M" => "mega",
        "k" => "kilo",
        "h" => "hecto",
        "da" => "deka",
        "d" => "deci",
        "c" => "centi",
        "m" => "milli",
        "u" => "micro",
        "n" => "nano",
        "p" => "pico",
        "f" => "femto",
        "a" => "atto",
        "z" => "zepto",
        "y" => "yocto",
        "Ki" => "kibi",
        "Mi" => "mebi",
        "Gi" => "gibi",
        "Ti" => "tebi",
        _ => "",
    }
}

/// Whether two valid units measure the same kind of quantity.
pub fn commensurable(a: &str, b: &str) -> Option<bool> {
    Some(parse(a).ok()?.dims == parse(b).ok()?.dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(code: &str) -> Unit {
        match parse(code) {
            Ok(u) => u,
            Err(e) => panic!("{code}: {e}"),
        }
    }

    #[test]
    fn common_units() {
        for code in [
            "mg/dL",
            "mm[Hg]",
            "kg/m2",
            "/min",
            "10*9/L",
            "{beats}/min",
            "%",
            "Cel",
            "[degF]",
            "mmol/L",
            "ug/mL",
            "[in_i]",
            "[lb_av]",
            "kg",
            "cm",
            "mL/min/{1.73_m2}",
            "10*3/uL",
            "[iU]/L",
            "meq/L",
            "g/(kg.d)",
            "km",
            "[mi_i]",
            "s-1",
            "1",
            "{score}",
            "L/min",
            "mL/(min.1.73.m2)",
            "[ft_i]",
            "a",
            "mo",
            "wk",
            "d",
            "h",
            "min",
            "[pH]",
            "m[H2O]",
            "cm[H2O]",
            "[in_i'Hg]",
            "mosm/kg",
            "U/L",
            "ng/mL",
            "pg/mL",
            "fL",
            "10^3",
            "kcal",
            "[Cal]",
            "kPa",
            "%{saturation}",
            "[drp]/min",
            "Kibit",
            "By",
            "[MET]",
        ] {
            ok(code);
        }
    }

    #[test]
    fn invalid_units() {
        for code in [
            "mgg", "", "mg/", "/", "kg m", "mg//dL", "(mg", "mg)", "{abc", "[foo]", "kmin", "m[Hg",
        ] {
            assert!(parse(code).is_err(), "{code} should be invalid");
        }
        assert_eq!(
            parse("mg/dLx").map_err(|e| e.message),
            Err("The unit 'dLx' is unknown at character 4".to_owned())
        );
    }

    #[test]
    fn canonical_forms() {
        let u = ok("mg/dL");
        assert_eq!(u.canonical(), "g.m-3");
        assert_eq!(u.factor.to_string(), "10");
        let u = ok("mm[Hg]");
        assert_eq!(u.canonical(), "g.m-1.s-2");
        assert_eq!(u.factor.to_string(), "133322");
        let u = ok("10*9/L");
        assert_eq!(u.canonical(), "m-3");
        assert_eq!(u.factor.to_string(), "1000000000000");
        assert_eq!(ok("/min").canonical(), "s-1");
        assert_eq!(ok("{beats}/min").canonical(), "s-1");
        assert_eq!(ok("%").canonical(), "1");
        let u = ok("[lb_av]");
        assert_eq!(u.factor.to_string(), "453.59237");
        assert!((u.factor.to_f64() - 453.592_37).abs() < 1e-9);
        assert_eq!(commensurable("kg/m2", "[lb_av]/[sin_i]"), Some(true));
        assert_eq!(commensurable("kg", "m"), Some(false));
    }

    #[test]
    fn display_names() {
        assert_eq!(display("mg/dL").as_deref(), Some("milligram / deciliter"));
        assert_eq!(display("kg/m2").as_deref(), Some("kilogram / meter^2"));
        assert_eq!(display("mgg"), None);
    }

    // From FHIRPath's former unit table: prefixed and compound units.
    #[test]
    fn reduces_prefixed_and_compound_units() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let mg = ok("mg");
        assert_eq!(mg.factor.to_decimal(), Some(d("0.001")));
        assert_eq!(mg.dims, [0, 0, 1, 0, 0, 0, 0]);
        let gm = ok("g/m");
        assert_eq!(gm.dims, [-1, 0, 1, 0, 0, 0, 0]);
        assert_eq!(ok("m2").dims, [2, 0, 0, 0, 0, 0, 0]);
        assert!(parse("furlong").is_err());
        assert_eq!(canonical_unit(&gm.dims), "g.m-1");
        assert_eq!(ok("wk").factor.to_decimal(), Some(d("604800")));
        assert_eq!(ok("mo").factor.to_decimal(), Some(d("2629800")));
        assert_eq!(ok("a").factor.to_decimal(), Some(d("31557600")));
        assert_eq!(ok("[in_i]").factor.to_decimal(), Some(d("0.0254")));
        assert_eq!(ok("[oz_av]").factor.to_decimal(), Some(d("28.349523125")));
        assert_eq!(ok("L").factor, ok("dm3").factor);
        assert_eq!(ok("kg.m-2").dims, [-2, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn leading_solidus_inverts_the_next_component() {
        assert_eq!(ok("/m.s").canonical(), "m-1.s");
        assert_eq!(ok("/(m.s)").canonical(), "m-1.s-1");
        // the oersted, 250/[pi] A/m, and the gilbert, Oe.cm: ampere-turns
        assert_eq!(commensurable("Oe", "A/m"), Some(true));
        assert_eq!(ok("Oe").canonical(), "m-1.s-1.C");
        assert!((ok("Oe").factor.to_f64() - 250.0 / std::f64::consts::PI).abs() < 1e-9);
        assert_eq!(commensurable("Gb", "A"), Some(true));
    }

    #[test]
    fn exact_conversion() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(convert(d("4000"), "mg", "g"), Some(d("4")));
        assert_eq!(convert(d("185"), "[lb_av]", "kg"), Some(d("83.91458845")));
        assert_eq!(convert(d("1"), "wk", "d"), Some(d("7")));
        assert_eq!(convert(d("0.040"), "m2", "cm2"), Some(d("400")));
        assert_eq!(convert(d("1"), "mmol/L", "umol/mL"), Some(d("1")));
        assert_eq!(convert(d("1"), "g", "m"), None);
        assert_eq!(convert(d("37"), "Cel", "K"), None, "special: not a ratio");
        assert_eq!(convert(d("1"), "[iU]", "1"), None, "arbitrary");
        assert_eq!(convert(d("1"), "mgg", "g"), None);
    }

    #[test]
    fn factors_beyond_decimal_range() {
        // [m_e] is about 9.1e-28 g, Ymol about 6e47: parsed, and exact
        // where the digits allow.
        assert_eq!(ok("[m_e]").factor.to_string(), "9.1093897e-28");
        assert_eq!(ok("Ymol").factor.to_string(), "6.0221367e47");
        assert_eq!(ok("Ymol").factor.to_decimal(), None);
        assert!(ok("10*99999").factor.to_decimal().is_none());
        assert!(parse("10*99999999999").is_err());
    }
}

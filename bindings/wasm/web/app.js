// The validator page: the editor with issue marks, the settings, the issue
// list; validation happens in worker.js. Everything stays in this tab.

const $ = (id) => document.getElementById(id);
const editor = $('editor');
const highlights = $('highlights');
const backdrop = $('backdrop');
const statusBox = $('status');
const alertBox = $('alert');
const progress = $('progress');
const summary = $('summary');
const issuesList = $('issues');
const moreButton = $('more');
const validateButton = $('validate');
const cancelButton = $('cancel');
const downloadButton = $('download');
const profileSelect = $('profile');
const profileUrl = $('profile-url');
const langSelect = $('lang');

/** Issues listed at once; "Show more" adds as many. */
const PAGE = 500;

const LANGUAGE_NAMES = { en: 'English', nb: 'Norsk bokmål', nn: 'Norsk nynorsk' };

// ---- The worker -------------------------------------------------------

let worker = null;
let nextId = 1;
const pending = new Map(); // id -> {resolve, reject, onProgress}
let loadedPackages = []; // [{name, data}] to send again to a new worker
let lang = 'en';

function startWorker() {
  worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event) => {
    const message = event.data;
    const request = pending.get(message.id);
    if (!request) return;
    if (message.type === 'progress') {
      request.onProgress?.(message);
      return;
    }
    pending.delete(message.id);
    if (message.type === 'error') request.reject(message);
    else request.resolve(message);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    for (const request of pending.values()) {
      request.reject({ kind: 'internal', message: event.message || 'the validation worker stopped' });
    }
    pending.clear();
  };
}

function ask(message, onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ ...message, id });
  });
}

/** A new worker with the same packages and language (after Stop). */
async function restartWorker() {
  worker.terminate();
  for (const request of pending.values()) request.reject({ kind: 'cancelled', message: 'stopped' });
  pending.clear();
  startWorker();
  const ready = await ask({ type: 'init' });
  let config = ready;
  if (loadedPackages.length) config = await ask({ type: 'add-packages', packages: loadedPackages });
  if (lang !== 'en') config = await ask({ type: 'set-lang', lang });
  showConfig(config);
}

// ---- Status, alerts ----------------------------------------------------

function setStatus(text) {
  statusBox.textContent = text;
}

function showAlert(text) {
  alertBox.textContent = text;
  alertBox.hidden = !text;
}

const KIND_TEXT = {
  parse: 'This is not readable JSON or XML',
  'not-fhir': 'This is not a FHIR resource',
  'unknown-profile': 'Unknown profile',
  load: 'The file could not be loaded as a FHIR package',
  'too-large': 'Too large',
  configuration: 'Setting not supported',
  internal: 'Internal error',
};

function describeError(error) {
  const where = error.line ? ` (line ${error.line}, column ${error.column})` : '';
  const head = KIND_TEXT[error.kind] || 'Error';
  return `${head}${where}: ${error.message}`;
}

// ---- Settings ------------------------------------------------------------

function showConfig(config) {
  const chosen = profileSelect.value;
  profileSelect.replaceChildren(new Option("Only the resource's own type and meta.profile", ''));
  const groups = new Map();
  for (const p of config.profiles) {
    const label = p.core ? 'FHIR R4 core' : p.package || 'Loaded';
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(p);
  }
  for (const [label, profiles] of groups) {
    const group = document.createElement('optgroup');
    group.label = label;
    profiles.sort((a, b) => (a.type || '').localeCompare(b.type || '') || (a.name || '').localeCompare(b.name || ''));
    for (const p of profiles) {
      group.append(new Option(`${p.type || '?'}: ${p.name || p.url}`, p.url));
    }
    profileSelect.append(group);
  }
  if ([...profileSelect.options].some((o) => o.value === chosen)) profileSelect.value = chosen;
  profileSelect.disabled = false;

  const list = $('packages');
  list.replaceChildren();
  const builtIn = document.createElement('li');
  builtIn.className = 'hint';
  builtIn.textContent = 'The FHIR R4 core and HL7 terminology are built in.';
  list.append(builtIn);
  for (const p of config.packages) {
    const item = document.createElement('li');
    item.textContent = `${p.name}#${p.version} (${p.resources} resources)`;
    list.append(item);
  }
}

function showLanguages(languages, current) {
  langSelect.replaceChildren(...languages.map((code) => new Option(LANGUAGE_NAMES[code] || code, code)));
  langSelect.value = current;
  langSelect.disabled = languages.length < 2;
}

langSelect.addEventListener('change', async () => {
  lang = langSelect.value;
  try {
    showConfig(await ask({ type: 'set-lang', lang }));
    setStatus(`Messages in ${LANGUAGE_NAMES[lang] || lang}.`);
    if (lastRun) validate();
  } catch (e) {
    showAlert(describeError(e));
  }
});

$('package-file').addEventListener('change', async (event) => {
  const files = [...event.target.files];
  event.target.value = '';
  if (!files.length) return;
  const packages = [];
  for (const file of files) packages.push({ name: file.name, data: new Uint8Array(await file.arrayBuffer()) });
  setStatus(`Loading ${files.map((f) => f.name).join(', ')}…`);
  showAlert('');
  try {
    const config = await ask({ type: 'add-packages', packages });
    loadedPackages = [...loadedPackages, ...packages];
    showConfig(config);
    setStatus(`Loaded ${files.map((f) => f.name).join(', ')}.`);
  } catch (e) {
    setStatus('The package was not loaded.');
    showAlert(describeError(e));
  }
});

// ---- The editor ---------------------------------------------------------

/**
 * Texts larger than this are shown a window of lines at a time, read-only:
 * a textarea holding 20 MB makes the whole page slow.
 */
const LARGE = 2_000_000;
/** Lines in the window of a large text. */
const WINDOW_LINES = 1000;

let large = null; // {text, starts} while a large text is open
let view = { first: 1, last: Infinity, starts: null }; // the lines the editor shows
let marksFor = null; // the editor text the marks were drawn for

/** The whole text: the editor's, or the large text's. */
function currentText() {
  return large ? large.text : editor.value;
}

function clearMarks() {
  highlights.replaceChildren();
  marksFor = null;
}

/** Show `text` (opened, dropped or pasted). */
function setText(text) {
  clearMarks();
  clearResults();
  if (text.length > LARGE) {
    large = { text, starts: lineStarts(text) };
    editor.readOnly = true;
    showWindow(1);
  } else {
    large = null;
    editor.readOnly = false;
    editor.value = text;
    view = { first: 1, last: Infinity, starts: null };
    $('large-note').hidden = true;
  }
}

/** Show the lines of the large text from `firstLine`. */
function showWindow(firstLine) {
  const { text, starts } = large;
  const first = Math.max(1, Math.min(firstLine, starts.length));
  const last = Math.min(starts.length, first + WINDOW_LINES - 1);
  const from = starts[first - 1];
  const to = last < starts.length ? starts[last] - 1 : text.length;
  editor.value = text.slice(from, to);
  editor.scrollTop = 0;
  view = { first, last, starts: null };
  const note = $('large-note');
  note.hidden = false;
  note.textContent = `Large text (${formatBytes(text.length)}, ${starts.length.toLocaleString('en')} lines): `
    + `showing lines ${first.toLocaleString('en')}–${last.toLocaleString('en')}, read-only. `
    + 'Select an issue to see its part of the text.';
  clearMarks();
  if (lastRun && lastRun.text === text) drawMarks(lastRun.issues);
}

editor.addEventListener('input', () => {
  if (large) return;
  if (editor.value.length > LARGE) {
    setText(editor.value);
    return;
  }
  if (marksFor !== null && editor.value !== marksFor) clearMarks();
});
editor.addEventListener('scroll', () => {
  backdrop.scrollTop = editor.scrollTop;
  backdrop.scrollLeft = editor.scrollLeft;
});
editor.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    validate();
  }
});

$('clear').addEventListener('click', () => {
  setText('');
  $('file-name').textContent = '';
  editor.focus();
});

async function openFile(file) {
  setStatus(`Reading ${file.name} (${formatBytes(file.size)})…`);
  showAlert('');
  progress.hidden = false;
  progress.removeAttribute('value');
  try {
    const text = await readText(file);
    setText(text);
    $('file-name').textContent = file.name;
    setStatus(`Opened ${file.name} (${formatBytes(file.size)}).`);
  } catch (e) {
    showAlert(`Could not read ${file.name}: ${e.message}`);
  } finally {
    progress.hidden = true;
  }
}

/** Read a file as UTF-8 text, showing how far it got. */
function readText(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onprogress = (e) => {
      if (e.lengthComputable) {
        progress.max = e.total;
        progress.value = e.loaded;
      }
    };
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}

$('file').addEventListener('change', (event) => {
  const [file] = event.target.files;
  event.target.value = '';
  if (file) openFile(file);
});

const drop = $('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  $('drop-hint').hidden = false;
});
drop.addEventListener('dragleave', () => {
  $('drop-hint').hidden = true;
});
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  $('drop-hint').hidden = true;
  const [file] = event.dataTransfer.files;
  if (file) openFile(file);
});

// ---- Positions ------------------------------------------------------------

/** Offsets (UTF-16) where each line starts. */
function lineStarts(text) {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The UTF-16 offset of a 1-based line and column (columns count code points). */
function offsetOf(text, starts, line, column) {
  let at = starts[Math.min(line, starts.length) - 1] ?? 0;
  for (let c = 1; c < column && at < text.length && text[at] !== '\n'; c++) {
    const code = text.charCodeAt(at);
    at += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return at;
}

/** The editor offset of a line:column of the whole text, or -1 when not on screen. */
function editorOffset(line, column) {
  if (line < view.first || line > view.last) return -1;
  view.starts ??= lineStarts(editor.value);
  return offsetOf(editor.value, view.starts, line - view.first + 1, column);
}

/** How much to mark at `at`: a quoted name or value, a tag name, or a word. */
function tokenLength(text, at) {
  const limit = Math.min(text.length, at + 200);
  if (text[at] === '"') {
    for (let i = at + 1; i < limit; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') return i + 1 - at;
    }
  }
  let i = at + (text[at] === '<' ? 1 : 0);
  while (i < limit && !/[\s,:{}[\]<>/"=]/.test(text[i])) i++;
  return Math.max(1, i - at);
}

// ---- Validation and results ----------------------------------------------

let lastRun = null; // {text, issues}: the text validated and its issues
let shown = 0;
let running = null;

function clearResults() {
  lastRun = null;
  issuesList.replaceChildren();
  summary.hidden = true;
  moreButton.hidden = true;
  downloadButton.disabled = true;
}

async function validate() {
  if (running || validateButton.disabled) return;
  const text = currentText();
  showAlert('');
  if (!text.trim()) {
    showAlert('Paste or open a FHIR resource first.');
    editor.focus();
    return;
  }
  const profile = profileUrl.value.trim() || profileSelect.value;
  clearResults();
  clearMarks();
  running = { started: performance.now() };
  validateButton.disabled = true;
  cancelButton.hidden = false;
  progress.hidden = false;
  progress.removeAttribute('value');
  setStatus(`Validating ${formatBytes(text.length)}…`);
  const tick = setInterval(() => {
    const s = ((performance.now() - running.started) / 1000).toFixed(0);
    setStatus(`Validating ${formatBytes(text.length)}… ${s} s`);
  }, 1000);
  try {
    const result = await ask({ type: 'validate', text, profile });
    clearInterval(tick);
    setStatus(`Showing ${result.issues.length} issues…`);
    showResult(text, result);
  } catch (e) {
    clearInterval(tick);
    if (e.kind !== 'cancelled') {
      if (e.line) jumpTo(e.line, e.column);
      setStatus('Not validated.');
      showAlert(describeError(e));
    }
  } finally {
    running = null;
    validateButton.disabled = false;
    cancelButton.hidden = true;
    progress.hidden = true;
  }
}

validateButton.addEventListener('click', validate);

cancelButton.addEventListener('click', async () => {
  setStatus('Stopping…');
  await restartWorker();
  setStatus('Stopped.');
  validateButton.focus();
});

function count(issues, ...severities) {
  return issues.filter((i) => severities.includes(i.severity)).length;
}

function showResult(text, result) {
  const { issues } = result;
  lastRun = { text, issues };
  shown = 0;
  const errors = count(issues, 'fatal', 'error');
  const warnings = count(issues, 'warning');
  const information = count(issues, 'information');
  const verdict = `${result.valid ? 'Valid' : 'Not valid'}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
  summary.hidden = false;
  summary.className = `summary ${result.valid ? 'valid' : 'invalid'}`;
  summary.textContent = `${verdict}, ${information} information (${(result.ms / 1000).toFixed(2)} s)`;
  downloadButton.disabled = false;
  showMore();
  drawMarks(issues);
  setStatus(`${verdict}.`);
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function showMore() {
  const { issues } = lastRun;
  const end = Math.min(issues.length, shown + PAGE);
  const items = [];
  for (let i = shown; i < end; i++) items.push(issueItem(issues[i], i));
  issuesList.append(...items);
  shown = end;
  moreButton.hidden = shown >= issues.length;
  moreButton.textContent = `Show more issues (${issues.length - shown} left)`;
}

moreButton.addEventListener('click', () => {
  const first = shown;
  showMore();
  issuesList.children[first]?.querySelector('button')?.focus();
});

function issueItem(issue, index) {
  const item = document.createElement('li');
  item.className = `issue ${issue.severity}`;
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.index = String(index);
  const position = document.createElement('span');
  position.className = 'position';
  position.textContent = issue.line ? `${issue.line}:${issue.column}` : '—';
  const severity = document.createElement('span');
  severity.className = 'severity';
  severity.textContent = issue.severity;
  const message = document.createElement('span');
  message.className = 'message';
  message.textContent = issue.message;
  button.append(position, severity, message);
  if (issue.expression) {
    const expression = document.createElement('code');
    expression.className = 'expression';
    expression.textContent = issue.expression;
    button.append(expression);
  }
  const where = issue.line ? `, line ${issue.line}, column ${issue.column}` : '';
  button.setAttribute('aria-label',
    `${issue.severity}${where}: ${issue.message}${issue.expression ? ` (${issue.expression})` : ''}`);
  if (issue.line) button.addEventListener('click', () => jumpTo(issue.line, issue.column, index));
  item.append(button);
  return item;
}

/** Mark the issues on the lines the editor shows. */
function drawMarks(issues) {
  const text = editor.value;
  const marks = [];
  issues.forEach((issue, index) => {
    if (!issue.line) return;
    const at = editorOffset(issue.line, issue.column);
    if (at < 0) return;
    marks.push({ at, end: at + tokenLength(text, at), issue, index });
  });
  marks.sort((a, b) => a.at - b.at || a.index - b.index);
  const fragment = document.createDocumentFragment();
  let done = 0;
  for (const m of marks) {
    if (m.at < done) continue; // overlapping marks: the first one shows
    fragment.append(text.slice(done, m.at));
    const mark = document.createElement('mark');
    mark.className = m.issue.severity;
    mark.dataset.index = String(m.index);
    mark.dataset.line = String(m.issue.line);
    mark.dataset.column = String(m.issue.column);
    mark.textContent = text.slice(m.at, m.end);
    fragment.append(mark);
    done = m.end;
  }
  // A final newline keeps the backdrop as tall as the textarea's content.
  fragment.append(`${text.slice(done)}\n`);
  highlights.replaceChildren(fragment);
  marksFor = text;
}

/** Select the text at line:column (of the whole text) and scroll it into view. */
function jumpTo(line, column, index) {
  if (!large && lastRun && editor.value !== lastRun.text) {
    showAlert('The text has changed since it was validated: validate again to see where the issues are now.');
    return;
  }
  if (large && (line < view.first || line > view.last)) showWindow(line - 100);
  const at = editorOffset(line, column);
  if (at < 0) return;
  editor.focus();
  editor.setSelectionRange(at, at + tokenLength(editor.value, at));
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
  editor.scrollTop = Math.max(0, (line - view.first) * lineHeight - editor.clientHeight / 3);
  for (const m of highlights.querySelectorAll('mark.active')) m.classList.remove('active');
  if (index !== undefined) highlights.querySelector(`mark[data-index="${index}"]`)?.classList.add('active');
  setStatus(`Line ${line}, column ${column}.`);
}

downloadButton.addEventListener('click', async () => {
  try {
    const { json } = await ask({ type: 'operation-outcome' });
    const blob = new Blob([json], { type: 'application/fhir+json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    const base = ($('file-name').textContent || 'resource').replace(/\.(json|xml)$/i, '');
    link.download = `${base}.OperationOutcome.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (e) {
    showAlert(describeError(e));
  }
});

function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// ---- Start -------------------------------------------------------------------

async function start() {
  if ('serviceWorker' in navigator) {
    // Offline use: the service worker keeps the page and the validator.
    navigator.serviceWorker.register('sw.js').catch(() => {});
  }
  startWorker();
  try {
    const ready = await ask({ type: 'init' });
    $('version').textContent = `fhirreg ${ready.version}`;
    showConfig(ready);
    showLanguages(ready.languages, ready.lang);
    validateButton.disabled = false;
    setStatus('Ready.');
    document.body.dataset.ready = 'true';
  } catch (e) {
    setStatus('The validator could not start.');
    showAlert(describeError(e));
  }
}

start();

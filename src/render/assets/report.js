// report.js - the script of hotscope's HTML report (html_report.c embeds
// it at build time through tools/embed_assets.py). No library, nothing
// loaded: it reads the profile model that the page carries as JSON (layout
// documented at the top of src/render/model_json.c) and builds from it
//   - the header (command, Python, duration, samples, ...),
//   - a thread selector (all threads merged, or one) and a weight selector,
//   - a timeline of the model's series (hidden when there are none),
//   - the flame graph / icicle on a canvas: click to zoom, reset, search
//     with the matched share, tooltip; boxes narrower than half a pixel
//     are merged per parent at draw time, so 100,000 nodes stay fast,
//   - the function table: self, total, calls, per call, other clocks;
//     sortable by any header, filtered by a text box, 300 rows at a time;
//     summed from the tree, or read from the exact tables the page
//     carries when its tree was merged to fit (function_tables.c),
//   - the call tree: expand/collapse; library frames (standard library,
//     third-party, C) collapsed into "N library frames" rows by default,
//   - for a line profile, first and in tabs with the others: the lines of
//     each function with their hits and time, shaded by time,
//   - for a trace with --slow-calls: the slowest calls of each function
//     with their duration, arguments, caller and thread.
// Every name from the profile goes into the page as text (textContent,
// canvas fillText), never as markup.
(function () {
  'use strict';

  var WEIGHT_TITLES = {
    samples: 'samples', wall_ns: 'wall time', cpu_ns: 'CPU time',
    calls: 'calls', bytes: 'bytes', allocs: 'allocations'
  };
  var WEIGHT_ORDER = ['samples', 'wall_ns', 'cpu_ns', 'bytes', 'allocs', 'calls'];
  var LIBRARY = { stdlib: true, library: true, native: true };
  // Hue families as src/render/flame_style.c: [hue, range, sat, light, range].
  var FAMILIES = {
    user: [8, 32, 85, 56, 10], stdlib: [95, 40, 48, 50, 10], library: [262, 30, 50, 64, 10],
    native: [192, 22, 62, 56, 10], synthetic: [0, 0, 0, 70, 8]
  };
  var CATEGORY_TITLES = {
    user: 'your code', stdlib: 'standard library', library: 'third-party', native: 'C / builtins',
    synthetic: 'threads, other'
  };
  var ROW = 18, MIN_PX = 0.5, MAX_ROWS = 400, TABLE_PAGE = 300, TREE_PAGE = 2000, TREE_KIDS = 100;

  // ---- small helpers ---------------------------------------------------

  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      for (var key in props) {
        if (!Object.prototype.hasOwnProperty.call(props, key)) continue;
        var v = props[key];
        if (key === 'text') node.textContent = v;
        else if (key === 'className') node.className = v;
        else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), v);
        else node.setAttribute(key, v);
      }
    }
    if (children) {
      for (var i = 0; i < children.length; i++) if (children[i]) node.appendChild(children[i]);
    }
    return node;
  }

  function grouped(v) {
    var s = String(Math.round(Math.abs(v))), out = '';
    while (s.length > 3) { out = ',' + s.slice(-3) + out; s = s.slice(0, -3); }
    return (v < 0 ? '-' : '') + s + out;
  }

  function fmt(weight, v) {
    var a = Math.abs(v);
    if (weight === 'wall_ns' || weight === 'cpu_ns') {
      if (a >= 1e9) return (v / 1e9).toFixed(3) + ' s';
      if (a >= 1e6) return (v / 1e6).toFixed(2) + ' ms';
      if (a >= 1e3) return (v / 1e3).toFixed(1) + ' \u00b5s';
      return Math.round(v) + ' ns';
    }
    if (weight === 'bytes') {
      if (a >= 1073741824) return (v / 1073741824).toFixed(2) + ' GiB';
      if (a >= 1048576) return (v / 1048576).toFixed(2) + ' MiB';
      if (a >= 1024) return (v / 1024).toFixed(1) + ' KiB';
      return Math.round(v) + ' B';
    }
    return grouped(v);
  }

  function pct(v, total) {
    return total > 0 ? (100 * v / total).toFixed(1) + '%' : '\u2013';
  }

  function fnv1a(text) {
    var bytes = new TextEncoder().encode(text), h = 2166136261;
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 16777619) >>> 0;
    }
    return h >>> 0;
  }

  // ---- the model -------------------------------------------------------

  function Model(json) {
    var m = this;
    m.meta = json.meta || {};
    m.weights = json.weights || [];
    m.strings = json.strings || [];
    m.threads = json.threads || [];
    m.series = json.series || [];
    m.slowCalls = json.slow_calls || [];
    // A tree merged to fit (narrow_merge.h): what was merged, and the
    // function tables computed before merging, by root node.
    m.merged = json.merged || null;
    m.functionTables = {};
    (json.functions || []).forEach(function (t) { m.functionTables[t.root] = t.rows; });
    var fr = json.frames || [];
    var nf = fr.length;
    m.frameName = new Array(nf); m.frameFile = new Array(nf);
    m.frameLine = new Int32Array(nf); m.frameFirst = new Int32Array(nf);
    m.frameKind = new Array(nf); m.frameCat = new Array(nf);
    m.frameLabel = new Array(nf); m.frameLoc = new Array(nf); m.frameColor = new Array(nf);
    m.frameFunc = new Int32Array(nf);
    var funcIndex = new Map();
    m.funcFrame = [];
    for (var f = 0; f < nf; f++) {
      var r = fr[f];
      var name = m.strings[r[0]] || '', file = m.strings[r[1]] || '';
      m.frameName[f] = name; m.frameFile[f] = file; m.frameFirst[f] = r[2]; m.frameLine[f] = r[3];
      m.frameKind[f] = r[4]; m.frameCat[f] = r[5];
      var line = r[3] || r[2];
      var python = r[4] === 'python' && file !== '~';
      var base = file.replace(/^.*[\/\\]/, '');
      m.frameLabel[f] = python ? name + ' (' + base + ':' + line + ')' : name;
      m.frameLoc[f] = python ? file + ':' + line : '';
      var fam = FAMILIES[r[5]] || FAMILIES.synthetic, h = fnv1a(name);
      var v1 = (h & 0xffff) / 65535, v2 = (h >>> 16) / 65535;
      m.frameColor[f] = 'hsl(' + (fam[0] + v1 * fam[1]).toFixed(1) + ',' + fam[2] + '%,' +
        (fam[3] + (v2 - 0.5) * fam[4]).toFixed(1) + '%)';
      // A function is (name, file, first line): the lines of one function are one row.
      var key = name + '\u0000' + file + '\u0000' + r[2] + '\u0000' + r[4];
      var id = funcIndex.get(key);
      if (id === undefined) { id = m.funcFrame.length; funcIndex.set(key, id); m.funcFrame.push(f); }
      m.frameFunc[f] = id;
    }
    var W = m.weights.length, rec = 2 + W, flat = json.nodes || [];
    var n = Math.floor(flat.length / rec) + 1;
    m.n = n;
    m.parent = new Int32Array(n); m.frame = new Int32Array(n);
    m.parent[0] = -1; m.frame[0] = -1;
    m.self = {};
    for (var k = 0; k < W; k++) m.self[m.weights[k]] = new Float64Array(n);
    var selfArrays = m.weights.map(function (w) { return m.self[w]; });
    for (var i = 1, b = 0; i < n; i++, b += rec) {
      m.parent[i] = flat[b]; m.frame[i] = flat[b + 1];
      for (k = 0; k < W; k++) selfArrays[k][i] = flat[b + 2 + k];
    }
    // Children in CSR form; the model lists parents before children.
    var count = new Int32Array(n + 1);
    for (i = 1; i < n; i++) count[m.parent[i] + 1]++;
    for (i = 0; i < n; i++) count[i + 1] += count[i];
    m.kidStart = count;
    m.kids = new Int32Array(Math.max(n - 1, 0));
    var fill = count.slice(0, n);
    for (i = 1; i < n; i++) m.kids[fill[m.parent[i]]++] = i;
    m.totalCache = {}; m.sortedCache = {};
  }

  Model.prototype.has = function (w) { return this.weights.indexOf(w) >= 0; };

  Model.prototype.totals = function (w) {
    if (this.totalCache[w]) return this.totalCache[w];
    var t = new Float64Array(this.n);
    var s = this.self[w];
    if (s) t.set(s);
    for (var i = this.n - 1; i > 0; i--) t[this.parent[i]] += t[i];
    this.totalCache[w] = t;
    return t;
  };

  // Children sorted by total, heaviest first (ties: the model's order).
  Model.prototype.sortedKids = function (w) {
    if (this.sortedCache[w]) return this.sortedCache[w];
    var t = this.totals(w), out = this.kids.slice();
    for (var i = 0; i < this.n; i++) {
      var a = this.kidStart[i], b = this.kidStart[i + 1];
      if (b - a > 1) {
        var part = Array.prototype.slice.call(out.subarray(a, b));
        part.sort(function (x, y) { return t[y] - t[x] || x - y; });
        out.set(part, a);
      }
    }
    this.sortedCache[w] = out;
    return out;
  };

  Model.prototype.label = function (node) {
    return node <= 0 || this.frame[node] < 0 ? 'all' : this.frameLabel[this.frame[node]];
  };

  Model.prototype.category = function (node) {
    return node <= 0 || this.frame[node] < 0 ? 'synthetic' : this.frameCat[this.frame[node]];
  };

  Model.prototype.isLibrary = function (node) {
    return LIBRARY[this.category(node)] === true;
  };

  // ---- state shared by the views ----------------------------------------

  var model, state = { weight: null, thread: -1, root: 0, focus: 0, icicle: false, term: '' };
  var views = [];

  function rootTotal() { return model.totals(state.weight)[state.root]; }

  function matcher(term) {
    if (!term) return null;
    var re = null;
    try { re = new RegExp(term); } catch (e) { re = null; }
    return re ? function (s) { return re.test(s); } : function (s) { return s.indexOf(term) >= 0; };
  }

  function refresh(what) {
    for (var i = 0; i < views.length; i++) views[i](what);
  }

  // ---- the header ------------------------------------------------------

  function buildHeader() {
    var meta = model.meta;
    var facts = [];
    function fact(name, value) {
      if (value !== undefined && value !== null && value !== '') facts.push([name, String(value)]);
    }
    if (meta.python) fact('Python', meta.python.split(' ')[0]);
    if (meta.engine) fact('Engine', meta.engine + (meta.mode ? ' (' + meta.mode + ')' : ''));
    if (meta.clock) fact('Clock', meta.clock);
    if (meta.duration_ns) fact('Duration', fmt('wall_ns', Number(meta.duration_ns)));
    if (meta.samples) fact('Samples', grouped(Number(meta.samples)));
    if (meta.rate_hz) fact('Rate', meta.rate_hz + ' Hz');
    if (meta.dropped && meta.dropped !== '0') fact('Dropped', meta.dropped);
    if (meta.pid) fact('PID', meta.pid);
    fact('Threads', model.threads.length);
    fact('Distinct stacks', grouped(model.n - 1));
    if (model.merged) fact('Merged', grouped(model.merged.nodes) + ' of ' + grouped(model.merged.of) + ' nodes');
    var dl = el('dl', { className: 'facts', id: 'facts' });
    facts.forEach(function (f) {
      dl.appendChild(el('div', null, [el('dt', { text: f[0] }), el('dd', { text: f[1] })]));
    });
    var command = meta.command || 'profile';
    return el('header', { className: 'top' }, [
      el('h1', null, [el('span', { className: 'brand', text: 'hotscope' }),
        el('span', { id: 'command', className: 'mono', text: command })]),
      dl
    ]);
  }

  // ---- controls: thread, weight, search --------------------------------

  // A sampled thread's GIL states (the sampler's cpu and gil modes:
  // [held, running without it, GIL wait, other wait, lock wait], in passes;
  // files of earlier versions have the first four, lock waits in the third)
  // as the share of its passes, for the thread selector.
  function gilText(t) {
    var s = t.gil_states;
    if (!s || (s.length !== 4 && s.length !== 5)) return '';
    var lock = s.length === 5 ? s[4] : 0;
    var n = s[0] + s[1] + s[2] + s[3] + lock;
    if (!(n > 0)) return '';
    function p(v) { return Math.round(100 * v / n) + '%'; }
    return ' \u2014 holds GIL ' + p(s[0]) + ', runs w/o GIL ' + p(s[1]) +
      (s.length === 5 ? ', waits GIL ' + p(s[2]) + ', waits lock ' + p(lock) : ', waits GIL/lock ' + p(s[2])) +
      ', waits other ' + p(s[3]);
  }

  function buildControls() {
    var threadSelect = el('select', { id: 'thread' });
    threadSelect.appendChild(el('option', { value: '-1', text: 'All threads (merged)' }));
    model.threads.forEach(function (t, i) {
      threadSelect.appendChild(el('option', { value: String(i), text: t.name + ' (tid ' + t.os_tid + ')' + gilText(t) }));
    });
    threadSelect.addEventListener('change', function () {
      state.thread = parseInt(threadSelect.value, 10);
      var t = model.threads[state.thread];
      state.root = t ? t.root : 0;
      state.focus = state.root;
      refresh('root');
    });
    var weightSelect = el('select', { id: 'weight' });
    WEIGHT_ORDER.forEach(function (w) {
      if (model.has(w)) weightSelect.appendChild(el('option', { value: w, text: WEIGHT_TITLES[w] }));
    });
    weightSelect.value = state.weight;
    weightSelect.addEventListener('change', function () {
      state.weight = weightSelect.value;
      refresh('weight');
    });
    var search = el('input', { type: 'search', id: 'search', placeholder: 'Search frames (regex or text)',
      spellcheck: 'false' });
    var timer = 0;
    search.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.term = search.value; refresh('search'); }, 120);
    });
    search.addEventListener('keydown', function (evt) {
      if (evt.key === 'Enter') { clearTimeout(timer); state.term = search.value; refresh('search'); }
    });
    document.addEventListener('keydown', function (evt) {
      if ((evt.ctrlKey || evt.metaKey) && (evt.key === 'f' || evt.key === 'F') && document.activeElement !== search) {
        evt.preventDefault();
        search.focus();
      }
    });
    return el('div', { className: 'controls' }, [
      el('label', null, [document.createTextNode('Thread'), threadSelect]),
      el('label', { className: model.weights.length > 1 ? '' : 'hidden' },
        [document.createTextNode('Weight'), weightSelect]),
      el('label', null, [document.createTextNode('Search'), search]),
      el('span', { id: 'matched' })
    ]);
  }

  // ---- the timeline ----------------------------------------------------

  function buildTimeline() {
    var section = el('section', { id: 'timeline' });
    if (!model.series.length) { section.className = 'hidden'; return section; }
    var title = el('h2', { text: 'Timeline' });
    var canvas = el('canvas', { id: 'timeline-canvas' });
    var legend = el('div', { className: 'legend' });
    section.appendChild(title); section.appendChild(legend); section.appendChild(canvas);
    var COLORS = ['#1a56a8', '#e8793a', '#3a9a4a', '#8a4ac8', '#c83a5a', '#3aa8b8'];
    function draw() {
      var shown = model.series.filter(function (s) {
        return state.thread < 0 || s.thread === state.thread || s.thread === -1;
      });
      var width = canvas.clientWidth || 800, height = 110, dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
      var ctx = canvas.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      while (legend.firstChild) legend.removeChild(legend.firstChild);
      var t0 = Infinity, t1 = -Infinity;
      shown.forEach(function (s) {
        for (var i = 0; i < s.points.length; i += 2) {
          t0 = Math.min(t0, s.points[i]); t1 = Math.max(t1, s.points[i]);
        }
      });
      if (!(t1 >= t0)) { legend.appendChild(el('span', { text: 'no points for this thread' })); return; }
      var span = Math.max(t1 - t0, 1);
      // Series of one unit share a scale (heap and RSS in bytes compare by
      // height); each unit's highest value is the top of its scale.
      var unitMax = {};
      shown.forEach(function (s) {
        for (var i = 1; i < s.points.length; i += 2)
          unitMax[s.unit] = Math.max(unitMax[s.unit] || 0, s.points[i]);
      });
      function show(unit, v) { return unit === 'bytes' ? fmt('bytes', v) : grouped(v); }
      shown.forEach(function (s, k) {
        var color = COLORS[k % COLORS.length];
        var who = s.thread >= 0 && model.threads[s.thread] ? model.threads[s.thread].name : 'process';
        var top = 0;
        for (var i = 1; i < s.points.length; i += 2) top = Math.max(top, s.points[i]);
        var max = unitMax[s.unit] || 0;
        legend.appendChild(el('span', null, [el('i', { style: 'background:' + color }),
          document.createTextNode(s.name + ' (' + who + ', ' + s.unit + ', max ' + show(s.unit, top) + ')')]));
        // One vertical extent per pixel column: the series' max there.
        var cols = new Float64Array(Math.ceil(width)).fill(-1);
        for (i = 0; i < s.points.length; i += 2) {
          var x = Math.min(cols.length - 1, Math.floor((s.points[i] - t0) / span * (width - 1)));
          cols[x] = Math.max(cols[x], s.points[i + 1]);
        }
        ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
        var started = false;
        for (x = 0; x < cols.length; x++) {
          if (cols[x] < 0) continue;
          var y = height - 4 - (max > 0 ? cols[x] / max : 0) * (height - 10);
          if (started) ctx.lineTo(x + 0.5, y); else { ctx.moveTo(x + 0.5, y); started = true; }
        }
        ctx.stroke();
      });
      ctx.fillStyle = '#5f6b76'; ctx.font = '11px sans-serif';
      ctx.fillText(fmt('wall_ns', span), width - 70, 12);
      Object.keys(unitMax).forEach(function (unit, k) {
        ctx.fillText(show(unit, unitMax[unit]) + (Object.keys(unitMax).length > 1 ? ' (' + unit + ')' : ''),
          4, 12 + 13 * k);
      });
    }
    views.push(function (what) { if (what !== 'search') draw(); });
    setTimeout(draw, 0);
    return section;
  }

  // ---- the flame graph ---------------------------------------------------

  function buildFlame() {
    var canvas = el('canvas', { id: 'flame-canvas', 'aria-label': 'flame graph' });
    var wrap = el('div', { className: 'flamewrap' }, [canvas]);
    var tooltip = el('div', { id: 'tooltip' });
    var crumb = el('span', { className: 'crumb', id: 'zoom-path' });
    var note = el('p', { className: 'note', id: 'flame-note' });
    var mergedNote = el('p', { className: 'note', id: 'merged-note' });
    if (model.merged) {
      mergedNote.textContent = grouped(model.merged.nodes) + ' of the ' + grouped(model.merged.of) +
        ' call paths, each under ' + (100 * model.merged.share).toPrecision(2) + '% of its thread, are merged into ' +
        '"' + model.frameName[model.merged.frame] + '" boxes to keep this file small: zoomed in far enough, ' +
        'they show as one box per caller. The function table counts them exactly.';
    } else if (model.meta.merged) {
      mergedNote.textContent = 'This profile was read from a report whose narrowest call paths were merged: ' +
        model.meta.merged + '.';
    }
    var flameButton = el('button', { id: 'mode-flame', className: 'on', text: 'Flame graph' });
    var icicleButton = el('button', { id: 'mode-icicle', text: 'Icicle' });
    var resetButton = el('button', { id: 'reset-zoom', text: 'Reset zoom', disabled: 'disabled' });
    var legend = el('div', { className: 'legend' });
    Object.keys(CATEGORY_TITLES).forEach(function (c) {
      var fam = FAMILIES[c];
      legend.appendChild(el('span', null, [
        el('i', { style: 'background:hsl(' + (fam[0] + fam[1] / 2) + ',' + fam[2] + '%,' + fam[3] + '%)' }),
        document.createTextNode(CATEGORY_TITLES[c])]));
    });
    var section = el('section', { id: 'flame' }, [
      el('h2', null, [document.createTextNode('Flame graph'),
        el('span', { className: 'hint', text: 'click a frame to zoom; search above; hover for details' })]),
      legend,
      el('div', { className: 'flamebar' }, [flameButton, icicleButton, resetButton, crumb]),
      wrap, note, mergedNote
    ]);
    document.body.appendChild(tooltip);

    // The boxes drawn last: parallel arrays, for hit tests and the tests' API.
    var boxes = { node: [], depth: [], x: [], w: [], kind: [], n: 0 };  // kind: 0 node, 1 caller, 2 merged
    var rows = 1, width = 800, matchFrame = null;

    function computeMatches() {
      var test = matcher(state.term);
      matchFrame = null;
      var out = document.getElementById('matched');
      if (!test) { if (out) out.textContent = ''; return; }
      matchFrame = new Uint8Array(model.frameLabel.length);
      for (var f = 0; f < matchFrame.length; f++) matchFrame[f] = test(model.frameLabel[f]) ? 1 : 0;
      // The matched share: the total of every matched node that has no
      // matched caller (so recursion counts once), over the whole view.
      var t = model.totals(state.weight), kids = model.kids, start = model.kidStart;
      var sum = 0, stack = [state.root];
      while (stack.length) {
        var v = stack.pop();
        if (v > 0 && model.frame[v] >= 0 && matchFrame[model.frame[v]]) { sum += t[v]; continue; }
        for (var i = start[v]; i < start[v + 1]; i++) stack.push(kids[i]);
      }
      if (out) out.textContent = 'Matched: ' + pct(sum, t[state.root]) + ' of total';
    }

    function layout() {
      var t = model.totals(state.weight), kids = model.sortedKids(state.weight), start = model.kidStart;
      boxes = { node: [], depth: [], x: [], w: [], kind: [], n: 0 };
      function add(node, depth, x, w, kind) {
        boxes.node.push(node); boxes.depth.push(depth); boxes.x.push(x); boxes.w.push(w);
        boxes.kind.push(kind); boxes.n++;
      }
      var chain = [];
      for (var a = state.focus; a !== state.root && a > 0; a = model.parent[a]) chain.push(a);
      chain.push(state.root);
      chain.reverse();
      for (var d = 0; d < chain.length - 1; d++) add(chain[d], d, 0, width, 1);
      var base = chain.length - 1, maxDepth = base, cut = false;
      var total = t[state.focus], scale = total > 0 ? width / total : 0;
      var stack = [state.focus, base, 0];
      while (stack.length) {
        var x = stack.pop(), depth = stack.pop(), node = stack.pop();
        var w = total > 0 ? t[node] * scale : width;
        add(node, depth, x, w, 0);
        if (depth > maxDepth) maxDepth = depth;
        var first = start[node], last = start[node + 1];
        if (first === last) continue;
        if (depth - base >= MAX_ROWS - 1) { cut = true; continue; }
        var cx = x, wide = [];
        for (var i = first; i < last; i++) {
          var kw = t[kids[i]] * scale;
          if (kw < MIN_PX) {
            var rest = 0, count = 0;
            for (var j = i; j < last; j++) { rest += t[kids[j]]; count++; }
            if (rest * scale >= MIN_PX) { add(-node - 1, depth + 1, cx, rest * scale, 2); maxDepth = Math.max(maxDepth, depth + 1); }
            break;
          }
          wide.push(kids[i], depth + 1, cx);
          cx += kw;
        }
        for (var k = wide.length - 3; k >= 0; k -= 3) stack.push(wide[k], wide[k + 1], wide[k + 2]);
      }
      rows = maxDepth + 1;
      note.textContent = cut ? 'Frames deeper than ' + MAX_ROWS + ' levels below the zoomed frame are not drawn: click a deep frame to zoom into it.' : '';
    }

    function boxY(depth) {
      return state.icicle ? depth * ROW : (rows - 1 - depth) * ROW;
    }

    function draw() {
      width = Math.max(200, (wrap.clientWidth || 800) - 2);
      layout();
      var height = rows * ROW, dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
      canvas.style.width = width + 'px'; canvas.style.height = height + 'px';
      var ctx = canvas.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.font = '11.5px "DejaVu Sans Mono", Menlo, Consolas, monospace';
      ctx.textBaseline = 'middle';
      var charW = ctx.measureText('MMMMMMMMMM').width / 10 || 7;
      for (var i = 0; i < boxes.n; i++) {
        var node = boxes.node[i], x = boxes.x[i], w = boxes.w[i], y = boxY(boxes.depth[i]);
        var kind = boxes.kind[i];
        var f = node > 0 ? model.frame[node] : -1;
        var color = kind === 2 ? '#d8d8d8' : f < 0 ? '#b3b3b3' : model.frameColor[f];
        if (matchFrame && f >= 0 && kind !== 2 && matchFrame[f]) color = '#e03cd2';
        ctx.globalAlpha = kind === 1 ? 0.55 : 1;
        ctx.fillStyle = color;
        ctx.fillRect(x, y, Math.max(w - (w > 2 ? 0.5 : 0), 0.5), ROW - 1);
        var fit = Math.floor((w - 6) / charW);
        if (fit >= 3) {
          var label = kind === 2 ? '\u2026' : model.label(node);
          var chars = Array.from(label);
          if (chars.length > fit) label = chars.slice(0, fit - 2).join('') + '..';
          ctx.fillStyle = '#111';
          ctx.fillText(label, x + 3, y + ROW / 2);
        }
      }
      ctx.globalAlpha = 1;
      // A flame graph grows up from its root: show the root end first.
      wrap.scrollTop = state.icicle ? 0 : wrap.scrollHeight;
      resetButton.disabled = state.focus === state.root;
      crumb.textContent = state.focus === state.root ? '' : 'Zoomed into: ' + model.label(state.focus);
    }

    function hit(evt) {
      var r = canvas.getBoundingClientRect();
      var px = evt.clientX - r.left, py = evt.clientY - r.top;
      var depth = state.icicle ? Math.floor(py / ROW) : rows - 1 - Math.floor(py / ROW);
      for (var i = 0; i < boxes.n; i++) {
        if (boxes.depth[i] === depth && px >= boxes.x[i] && px < boxes.x[i] + Math.max(boxes.w[i], 1)) return i;
      }
      return -1;
    }

    canvas.addEventListener('click', function (evt) {
      var i = hit(evt);
      if (i < 0) return;
      var node = boxes.node[i];
      state.focus = node < 0 ? -node - 1 : node;  // a merged box zooms to its parent
      draw();
    });
    canvas.addEventListener('mousemove', function (evt) {
      var i = hit(evt);
      if (i < 0) { tooltip.style.display = 'none'; return; }
      var node = boxes.node[i], t = model.totals(state.weight), total = rootTotal();
      while (tooltip.firstChild) tooltip.removeChild(tooltip.firstChild);
      var lines = [];
      if (node < 0) {
        var parentNode = -node - 1, sum = 0, count = 0, kids = model.kids;
        for (var k = model.kidStart[parentNode]; k < model.kidStart[parentNode + 1]; k++) {
          if (t[kids[k]] / t[state.focus] * width < MIN_PX) { sum += t[kids[k]]; count++; }
        }
        tooltip.appendChild(el('b', { text: count + ' frames too narrow to draw' }));
        lines.push('Total: ' + fmt(state.weight, sum) + ' (' + pct(sum, total) + ')');
      } else {
        var f = model.frame[node];
        tooltip.appendChild(el('b', { text: model.label(node) }));
        if (f >= 0 && model.frameLoc[f]) lines.push(model.frameLoc[f]);
        lines.push('[' + model.category(node) + ']');
        lines.push('Total: ' + fmt(state.weight, t[node]) + ' (' + pct(t[node], total) + ')');
        lines.push('Self: ' + fmt(state.weight, model.self[state.weight] ? model.self[state.weight][node] : 0) +
          ' (' + pct(model.self[state.weight] ? model.self[state.weight][node] : 0, total) + ')');
        ['wall_ns', 'cpu_ns'].forEach(function (w) {
          if (w !== state.weight && model.has(w)) lines.push(WEIGHT_TITLES[w] + ': ' + fmt(w, model.totals(w)[node]));
        });
      }
      tooltip.appendChild(document.createTextNode(lines.join('\n')));
      tooltip.style.display = 'block';
      var x = evt.clientX + 14, y = evt.clientY + 16;
      var tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
      if (x + tw > window.innerWidth - 4) x = Math.max(4, evt.clientX - tw - 10);
      if (y + th > window.innerHeight - 4) y = Math.max(4, evt.clientY - th - 10);
      tooltip.style.left = x + 'px'; tooltip.style.top = y + 'px';
    });
    canvas.addEventListener('mouseleave', function () { tooltip.style.display = 'none'; });
    resetButton.addEventListener('click', function () { state.focus = state.root; draw(); });
    function setMode(icicle) {
      state.icicle = icicle;
      flameButton.className = icicle ? '' : 'on';
      icicleButton.className = icicle ? 'on' : '';
      draw();
    }
    flameButton.addEventListener('click', function () { setMode(false); });
    icicleButton.addEventListener('click', function () { setMode(true); });
    var resizeTimer = 0;
    window.addEventListener('resize', function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 100); });

    views.push(function (what) {
      if (what === 'search' || what === 'weight' || what === 'root') computeMatches();
      draw();
    });

    // For tests and tools: where each drawn box is, in CSS pixels of the canvas.
    window.hotscopeReport.flameBoxes = function () {
      var out = [];
      for (var i = 0; i < boxes.n; i++) {
        out.push({ label: boxes.kind[i] === 2 ? '\u2026' : model.label(boxes.node[i]),
          x: boxes.x[i], y: boxY(boxes.depth[i]), width: boxes.w[i], height: ROW - 1,
          kind: ['frame', 'caller', 'merged'][boxes.kind[i]],
          matched: !!(matchFrame && boxes.node[i] > 0 && matchFrame[model.frame[boxes.node[i]]]) });
      }
      return out;
    };
    window.hotscopeReport.flameWidth = function () { return width; };
    return { section: section, draw: draw };
  }

  // ---- the function table ------------------------------------------------

  function buildTable() {
    var filter = el('input', { type: 'search', id: 'table-filter', placeholder: 'Filter functions' });
    var count = el('span', { className: 'hint', id: 'table-count' });
    var table = el('table', { className: 'functions', id: 'functions' });
    var more = el('button', { className: 'more hidden', id: 'table-more' });
    var section = el('section', { id: 'table' }, [
      el('h2', null, [document.createTextNode('Functions'), filter, count]),
      el('div', { className: 'tablewrap' }, [table]), more
    ]);
    var sortKey = 'total', ascending = false, shown = TABLE_PAGE, rowsData = null, columns = [], exact = null;

    // The table of the view from the page's exact tables (a merged tree):
    // each row a frame of the function, its calls, then self and total
    // per weight in the model's order.
    function fromExact(rows, ws, selfs, tots, calls, seen) {
      var W = model.weights.length, stride = 2 + 2 * W;
      var at = ws.map(function (w) { return model.weights.indexOf(w); });
      for (var j = 0; j + stride <= rows.length; j += stride) {
        var fn = model.frameFunc[rows[j]];
        seen[fn] = 1;
        calls[fn] += rows[j + 1];
        for (var k = 0; k < ws.length; k++) {
          if (at[k] < 0) continue;
          selfs[k][fn] += rows[j + 2 + 2 * at[k]];
          tots[k][fn] += rows[j + 3 + 2 * at[k]];
        }
      }
    }

    function aggregate() {
      var weight = state.weight, nf = model.funcFrame.length;
      var extra = ['wall_ns', 'cpu_ns'].filter(function (w) { return w !== weight && model.has(w); });
      var ws = [weight].concat(extra);
      var selfs = ws.map(function () { return new Float64Array(nf); });
      var tots = ws.map(function () { return new Float64Array(nf); });
      var calls = new Float64Array(nf), seen = new Uint8Array(nf);
      exact = model.functionTables[state.root] || null;
      if (exact) fromExact(exact, ws, selfs, tots, calls, seen);
      var onStack = new Int32Array(nf);
      var T = exact ? [] : ws.map(function (w) { return model.totals(w); });
      var S = exact ? [] : ws.map(function (w) { return model.self[w] || new Float64Array(model.n); });
      var C = model.self.calls;
      var kids = model.kids, start = model.kidStart;
      // Depth-first with an exit marker (~node), so a function's total
      // counts only its outermost call on each stack, as cProfile's cumtime.
      var stack = exact ? [] : [state.root];
      while (stack.length) {
        var v = stack.pop();
        if (v < 0) { onStack[model.frameFunc[model.frame[~v]]]--; continue; }
        if (v > 0 && model.frame[v] >= 0 && model.frameKind[model.frame[v]] !== 'thread') {
          var fn = model.frameFunc[model.frame[v]];
          seen[fn] = 1;
          for (var k = 0; k < ws.length; k++) selfs[k][fn] += S[k][v];
          if (C) calls[fn] += C[v];
          if (onStack[fn]++ === 0) for (k = 0; k < ws.length; k++) tots[k][fn] += T[k][v];
          stack.push(~v);
        }
        for (var i = start[v]; i < start[v + 1]; i++) stack.push(kids[i]);
      }
      // Waiting: total wall minus total CPU time, the time spent off the
      // CPU under the function (sleeps, I/O, locks, the GIL).
      var iWall = ws.indexOf('wall_ns'), iCpu = ws.indexOf('cpu_ns');
      var rows = [];
      for (var f = 0; f < nf; f++) {
        if (!seen[f]) continue;
        var frame = model.funcFrame[f];
        var row = { frame: frame, name: model.frameName[frame],
          loc: model.frameKind[frame] === 'python' ? model.frameFile[frame] + ':' + model.frameFirst[frame] : '',
          self: selfs[0][f], total: tots[0][f], calls: calls[f] };
        row.percall = calls[f] > 0 ? tots[0][f] / calls[f] : -1;
        for (k = 1; k < ws.length; k++) { row['self_' + ws[k]] = selfs[k][f]; row['total_' + ws[k]] = tots[k][f]; }
        if (iWall >= 0 && iCpu >= 0) row.waiting = Math.max(0, tots[iWall][f] - tots[iCpu][f]);
        rows.push(row);
      }
      columns = [
        { key: 'name', title: 'Function', cls: 'fn' },
        { key: 'loc', title: 'File:line', cls: 'loc' },
        { key: 'self', title: 'Self', w: weight },
        { key: 'self_pct', title: 'Self %', of: 'self' },
        { key: 'total', title: 'Total', w: weight },
        { key: 'total_pct', title: 'Total %', of: 'total' }
      ];
      if (C) {
        columns.push({ key: 'calls', title: 'Calls', w: 'calls' });
        if (weight !== 'calls') columns.push({ key: 'percall', title: 'Per call', w: weight });
      }
      extra.forEach(function (w) {
        columns.push({ key: 'self_' + w, title: 'Self ' + (w === 'cpu_ns' ? 'CPU' : 'wall'), w: w });
        columns.push({ key: 'total_' + w, title: 'Total ' + (w === 'cpu_ns' ? 'CPU' : 'wall'), w: w });
      });
      if (iWall >= 0 && iCpu >= 0) columns.push({ key: 'waiting', title: 'Waiting', w: 'wall_ns' });
      rowsData = rows;
    }

    function render() {
      if (!rowsData) aggregate();
      var total = rootTotal();
      var test = null, text = filter.value.trim().toLowerCase();
      if (text) test = function (r) { return (r.name + ' ' + r.loc).toLowerCase().indexOf(text) >= 0; };
      var rows = test ? rowsData.filter(test) : rowsData.slice();
      var key = sortKey === 'self_pct' ? 'self' : sortKey === 'total_pct' ? 'total' : sortKey;
      rows.sort(function (a, b) {
        var x = a[key], y = b[key], c;
        if (typeof x === 'string') c = x < y ? -1 : x > y ? 1 : 0;
        else c = x - y;
        if (!ascending) c = -c;
        return c || (b.total - a.total) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      });
      while (table.firstChild) table.removeChild(table.firstChild);
      var head = el('tr');
      columns.forEach(function (col) {
        var th = el('th', { className: (col.cls || '') + (col.key === sortKey ? ' sorted' + (ascending ? ' asc' : '') : ''),
          'data-key': col.key, text: col.title, title: 'sort by ' + col.title });
        th.addEventListener('click', function () {
          if (sortKey === col.key) ascending = !ascending;
          else { sortKey = col.key; ascending = col.key === 'name' || col.key === 'loc'; }
          shown = TABLE_PAGE;
          render();
        });
        head.appendChild(th);
      });
      table.appendChild(el('thead', null, [head]));
      var body = el('tbody');
      var limit = Math.min(rows.length, shown);
      for (var i = 0; i < limit; i++) {
        var r = rows[i], tr = el('tr');
        columns.forEach(function (col) {
          var td;
          if (col.key === 'name') {
            td = el('td', { className: 'fn', title: r.name }, [
              el('i', { className: 'swatch', style: 'background:' + model.frameColor[r.frame] }),
              document.createTextNode(r.name)]);
          } else if (col.key === 'loc') {
            td = el('td', { className: 'loc', title: r.loc }, [el('bdi', { text: r.loc })]);
          } else if (col.of) {
            td = el('td', { className: 'num', text: pct(r[col.of], total) });
          } else {
            var v = r[col.key];
            td = el('td', { className: 'num', text: v < 0 ? '\u2013' : fmt(col.w, v) });
          }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      }
      table.appendChild(body);
      count.textContent = (test ? rows.length + ' of ' + rowsData.length : rowsData.length) + ' functions' +
        (model.merged && !exact ? ' (summed from the merged tree: what was merged counts as "' +
          model.frameName[model.merged.frame] + '")' : '');
      if (rows.length > limit) {
        more.className = 'more';
        more.textContent = 'Show ' + Math.min(TABLE_PAGE, rows.length - limit) + ' more (' + (rows.length - limit) + ' not shown)';
      } else {
        more.className = 'more hidden';
      }
    }

    more.addEventListener('click', function () { shown += TABLE_PAGE; render(); });
    var timer = 0;
    function filterChanged() {
      clearTimeout(timer);
      timer = setTimeout(function () { shown = TABLE_PAGE; render(); }, 100);
    }
    filter.addEventListener('input', filterChanged);
    filter.addEventListener('search', filterChanged);
    views.push(function (what) {
      if (what === 'search') return;
      rowsData = null;
      render();
    });
    return section;
  }

  // ---- the call tree -----------------------------------------------------

  function buildTree() {
    var showLib = el('input', { type: 'checkbox', id: 'show-library' });
    var box = el('div', { className: 'tree', id: 'calltree' });
    var more = el('button', { className: 'more hidden', id: 'tree-more' });
    var section = el('section', { id: 'tree' }, [
      el('h2', null, [document.createTextNode('Call tree'),
        el('label', { className: 'hint' }, [showLib, document.createTextNode(' show library frames (standard library, third-party, C)')])]),
      box, more
    ]);
    // What the user toggled: node id -> open?; for library groups, 'g' + id.
    var toggled = new Map(), allKids = new Set(), limit = TREE_PAGE, groupCache = new Map();

    function isOpen(key, node, libOpen) {
      if (toggled.has(key)) return toggled.get(key);
      if (typeof key === 'string') return false;          // library groups start closed
      if (libOpen && model.isLibrary(node)) return true;  // an opened group shows all of itself
      var t = model.totals(state.weight);
      return t[node] >= 0.05 * rootTotal() && t[node] > 0;  // the hot paths start open
    }

    // The library frames reached from `node` through library frames only,
    // and the first frames of other code below them (the "frontier").
    function group(node) {
      var cached = groupCache.get(node);
      if (cached) return cached;
      var t = model.totals(state.weight), s = model.self[state.weight];
      var count = 0, self = 0, names = [], frontier = [], stack = [node];
      var kids = model.sortedKids(state.weight), start = model.kidStart;
      while (stack.length) {
        var v = stack.pop();
        count++;
        if (s) self += s[v];
        var name = model.frameName[model.frame[v]];
        if (names.length < 3 && names.indexOf(name) < 0) names.push(name);
        for (var i = start[v + 1] - 1; i >= start[v]; i--) {
          var c = kids[i];
          if (t[c] <= 0) continue;
          if (model.isLibrary(c)) stack.push(c); else frontier.push(c);
        }
      }
      frontier.sort(function (a, b) { return t[b] - t[a] || a - b; });
      cached = { count: count, self: self, names: names, frontier: frontier };
      groupCache.set(node, cached);
      return cached;
    }

    // The rows under one row, as [kind, node, libOpen] items: kind 'n'
    // (a frame), 'g' (a library group) or 'm' (the "N more" row of node).
    function childItems(kind, node, libOpen) {
      var t = model.totals(state.weight), out = [];
      if (kind === 'g') {
        if (isOpen('g' + node, node)) return [['n', node, true]];
        var fr = group(node).frontier;
        for (var j = 0; j < fr.length; j++) out.push(['n', fr[j], false]);
        return capped(out, node);
      }
      var kids = model.sortedKids(state.weight), start = model.kidStart;
      for (var i = start[node]; i < start[node + 1]; i++) {
        var c = kids[i];
        if (t[c] <= 0) continue;
        var lib = model.isLibrary(c);
        if (!lib) out.push(['n', c, false]);
        else if (showLib.checked || libOpen) out.push(['n', c, true]);
        else out.push(['g', c, false]);
      }
      return capped(out, node);
    }

    function capped(items, node) {
      if (items.length <= TREE_KIDS || allKids.has(node)) return items;
      var rest = items.length - TREE_KIDS;
      items = items.slice(0, TREE_KIDS);
      items.push(['m', node, rest]);
      return items;
    }

    function hasChildren(kind, node, libOpen) {
      if (kind === 'g') return true;
      return childItems(kind, node, libOpen).length > 0;
    }

    function row(kind, node, depth, libOpen) {
      var t = model.totals(state.weight), total = rootTotal();
      var r = el('div', { className: 'row', 'data-node': String(node), 'data-kind': kind });
      var indent = el('span', { className: 'indent', style: 'width:' + Math.min(depth, 60) * 14 + 'px' });
      var tog = el('span', { className: 'tog' });
      r.appendChild(indent); r.appendChild(tog);
      if (kind === 'm') {
        r.className = 'row more';
        r.appendChild(el('span', { className: 'name', text: '\u2026 ' + libOpen + ' more calls (show all)' }));
        r.addEventListener('click', function () { allKids.add(node); render(); });
        return r;
      }
      var value = t[node], selfValue;
      var key = kind === 'g' ? 'g' + node : node;
      var open = isOpen(key, node, libOpen);
      if (kind === 'g') {
        tog.textContent = open ? '\u2212' : '+';
        tog.title = open ? 'hide these library frames' : 'show these library frames';
        tog.addEventListener('click', function () { toggled.set(key, !open); render(); });
      } else if (hasChildren(kind, node, libOpen)) {
        tog.textContent = open ? '\u25be' : '\u25b8';
        tog.addEventListener('click', function () { toggled.set(key, !open); render(); });
      }
      if (kind === 'g') {
        var g = group(node);
        selfValue = g.self;
        r.className = 'row group';
      } else {
        selfValue = model.self[state.weight] ? model.self[state.weight][node] : 0;
        if (model.isLibrary(node)) r.className = 'row lib';
      }
      var share = total > 0 ? value / total : 0;
      r.appendChild(el('span', { className: 'num', title: 'total', text: fmt(state.weight, value) }));
      r.appendChild(el('span', { className: 'num', title: 'self', text: fmt(state.weight, selfValue) }));
      r.appendChild(el('span', { className: 'pct', text: pct(value, total) }));
      r.appendChild(el('span', { className: 'bar' }, [el('i', { style: 'width:' + (share * 100).toFixed(1) + '%' })]));
      if (kind === 'g') {
        var label = g.count + ' library frame' + (g.count === 1 ? '' : 's') + ' (' + g.names.join(', ') +
          (g.count > g.names.length ? ', \u2026' : '') + ')';
        var name = el('span', { className: 'name', text: (open ? 'hide ' : '') + label });
        name.addEventListener('click', function () { toggled.set(key, !open); render(); });
        r.appendChild(name);
      } else {
        var f = model.frame[node];
        r.appendChild(el('span', { className: 'name', text: f >= 0 ? model.frameName[f] : 'all' }));
        r.appendChild(el('span', { className: 'loc', text: f >= 0 ? model.frameLoc[f] : '' }));
        r.setAttribute('title', model.label(node));
      }
      return r;
    }

    function render() {
      var frag = document.createDocumentFragment();
      var items = childItems('n', state.root, false);
      var stack = [];
      for (var i = items.length - 1; i >= 0; i--) stack.push([items[i], 0]);
      var count = 0, truncated = false;
      while (stack.length) {
        var top = stack.pop(), item = top[0], depth = top[1];
        if (count >= limit) { truncated = true; break; }
        frag.appendChild(row(item[0], item[1], depth, item[2]));
        count++;
        if (item[0] === 'm') continue;
        // A library group always shows what is under it: the frames of
        // other code it leads to, or (opened) its own library frames.
        if (item[0] === 'n' && !isOpen(item[1], item[1], item[2])) continue;
        var kids = childItems(item[0], item[1], item[2]);
        for (var k = kids.length - 1; k >= 0; k--) stack.push([kids[k], depth + 1]);
      }
      while (box.firstChild) box.removeChild(box.firstChild);
      box.appendChild(frag);
      more.className = truncated ? 'more' : 'more hidden';
      more.textContent = 'Show more rows';
    }

    more.addEventListener('click', function () { limit += TREE_PAGE; render(); });
    showLib.addEventListener('change', function () { render(); });
    views.push(function (what) {
      if (what === 'search') return;
      groupCache = new Map();
      toggled = new Map();
      allKids = new Set();
      limit = TREE_PAGE;
      render();
    });
    return section;
  }

  // ---- the slowest calls ------------------------------------------------
  // A trace run with --slow-calls N keeps each function's N slowest calls:
  // json.slow_calls, five numbers per call (src/render/model_json.c):
  // function frame, caller frame or -1, thread, wall ns, string id of the
  // arguments' text. One table, grouped by function in the model's order
  // (slowest call first), limited to the thread the selector picks.

  function buildSlowCalls() {
    var flat = model.slowCalls;
    var table = el('table', { className: 'functions slowcalls', id: 'slow-calls-table' });
    var section = el('section', { id: 'slow-calls' }, [
      el('h2', null, [document.createTextNode('Slowest calls'),
        el('span', { className: 'hint', text: 'the slowest calls of each function: duration, ' +
          'arguments (their values when the call returned) and caller' })]),
      el('div', { className: 'tablewrap' }, [table])
    ]);
    if (!flat.length) section.className = 'hidden';
    function render() {
      while (table.firstChild) table.removeChild(table.firstChild);
      table.appendChild(el('thead', null, [el('tr', null, ['Function', 'Duration', 'Arguments', 'Called from', 'Thread']
        .map(function (t, i) { return el('th', { className: i === 1 ? '' : 'fn', text: t }); }))]));
      var body = el('tbody'), last = -1;
      for (var i = 0; i + 4 < flat.length; i += 5) {
        var f = flat[i], caller = flat[i + 1], thread = flat[i + 2], ns = flat[i + 3];
        if (state.thread >= 0 && thread !== state.thread) continue;
        var args = model.strings[flat[i + 4]] || '';
        var first = f !== last;
        last = f;
        var t = model.threads[thread];
        body.appendChild(el('tr', { className: first ? 'first' : '', 'data-function': model.frameName[f],
          'data-ns': String(ns) }, [
          el('td', { className: 'fn', title: model.frameLoc[f] || model.frameName[f], text: first ? model.frameLabel[f] : '' }),
          el('td', { className: 'num', text: fmt('wall_ns', ns) }),
          el('td', { className: 'fn args', title: args, text: args }),
          el('td', { className: 'fn', text: caller >= 0 ? model.frameLabel[caller] : '(top of the thread)' }),
          el('td', { className: 'fn', text: t ? t.name : '' })
        ]));
      }
      table.appendChild(body);
    }
    views.push(function (what) { if (what === 'root') render(); });
    return section;
  }

  // ---- the line profile -------------------------------------------------
  // For a profile of `hotscope lines` (meta engine "lines"): the model is
  // thread -> function node (frame line 0) -> a node per executed line
  // (calls = hits, wall_ns = time), and the functions' source text is in
  // meta "source:<file>:<first line>", captured when the profile was
  // recorded (src/lines/lines_type.c, hotscope/_lines.py). Shown as
  // kernprof shows it, one table per function, hottest function first,
  // each row shaded by its share of the function's time.

  function isLineProfile() { return model.meta.engine === 'lines'; }

  // The profiled functions under `root` (the root: every thread): each
  // {frame, ns, lines: Map line -> {hits, ns}}, summed over threads.
  function lineFunctions(root) {
    var byFunc = new Map(), out = [], kids = model.kids, start = model.kidStart;
    var hits = model.self.calls, time = model.self.wall_ns;
    var owners = [];
    if (root > 0) owners.push(root);
    else for (var i = start[0]; i < start[1]; i++) owners.push(kids[i]);
    owners.forEach(function (owner) {
      for (var i = start[owner]; i < start[owner + 1]; i++) {
        var fnode = kids[i], f = model.frame[fnode];
        if (f < 0 || model.frameKind[f] !== 'python' || model.frameLine[f] !== 0) continue;
        var fn = byFunc.get(model.frameFunc[f]);
        if (!fn) {
          fn = { frame: f, ns: 0, lines: new Map() };
          byFunc.set(model.frameFunc[f], fn);
          out.push(fn);
        }
        for (var k = start[fnode]; k < start[fnode + 1]; k++) {
          var node = kids[k], line = model.frameLine[model.frame[node]];
          if (line <= 0) continue;
          var row = fn.lines.get(line);
          if (!row) { row = { hits: 0, ns: 0 }; fn.lines.set(line, row); }
          row.hits += hits ? hits[node] : 0;
          row.ns += time ? time[node] : 0;
          fn.ns += time ? time[node] : 0;
        }
      }
    });
    out.sort(function (a, b) {
      return b.ns - a.ns || (model.frameFile[a.frame] < model.frameFile[b.frame] ? -1 :
        model.frameFile[a.frame] > model.frameFile[b.frame] ? 1 : model.frameFirst[a.frame] - model.frameFirst[b.frame]);
    });
    return out;
  }

  // The rows of one function as kernprof lays them out: from its first
  // line (or the first line run, if earlier) to the last line run or the
  // end of its source; lines neither run nor in the source are left out.
  function lineRows(fn) {
    var first = model.frameFirst[fn.frame];
    var text = model.meta['source:' + model.frameFile[fn.frame] + ':' + first];
    var source = typeof text === 'string' ? text.split('\n') : null;
    var numbers = Array.from(fn.lines.keys());
    var lo = Math.min.apply(null, [first].concat(numbers));
    var hi = Math.max.apply(null, [first].concat(numbers));
    if (source) hi = Math.max(hi, first + source.length - 1);
    var rows = [];
    for (var line = lo; line <= hi; line++) {
      var run = fn.lines.get(line), i = line - first;
      var has = source !== null && i >= 0 && i < source.length;
      if (!run && !has) continue;
      rows.push({ line: line, run: run || null, text: has ? source[i].replace(/\r$/, '') : null });
    }
    return rows;
  }

  // The shade of a row taking `share` (0..1) of its function's time:
  // opacity proportional to the share, so twice the time is twice as dark.
  function heat(share) {
    return 'rgba(232,86,40,' + (0.7 * Math.max(0, Math.min(1, share))).toFixed(4) + ')';
  }

  function buildLines() {
    var box = el('div', { id: 'line-functions' });
    var section = el('section', { id: 'lines' }, [
      el('h2', null, [document.createTextNode('Lines'),
        el('span', { className: 'hint', text: 'per function, hottest first; click a function to fold it; ' +
          'rows shaded by their share of the function\u2019s time' })]),
      box
    ]);
    var folded = new Set();

    function functionBlock(fn, index) {
      var f = fn.frame, key = model.frameFunc[f];
      var rows = lineRows(fn);
      var never = fn.lines.size === 0;
      var name = el('span', { className: 'fname', text: model.frameName[f], title: 'fold or unfold' });
      var head = el('div', { className: 'linehead' }, [
        el('span', { className: 'tog', text: folded.has(key) ? '\u25b8' : '\u25be' }), name,
        el('span', { className: 'total', text: never ? 'never called' : 'total ' + fmt('wall_ns', fn.ns) }),
        el('bdi', { className: 'loc', text: model.frameFile[f] + ':' + model.frameFirst[f] })
      ]);
      var table = el('table', { className: 'linetable' + (folded.has(key) ? ' hidden' : '') });
      table.appendChild(el('thead', null, [el('tr', null, ['Line #', 'Hits', 'Time', 'Per hit', '% Time', 'Line contents']
        .map(function (t, i) { return el('th', { className: i === 5 ? 'src' : 'num', text: t }); }))]));
      var body = el('tbody');
      rows.forEach(function (r) {
        var tr = el('tr', { 'data-line': String(r.line) });
        tr.appendChild(el('td', { className: 'num lineno', text: String(r.line) }));
        if (r.run) {
          var share = fn.ns > 0 ? r.run.ns / fn.ns : 0;
          tr.setAttribute('data-hits', String(r.run.hits));
          tr.setAttribute('data-ns', String(r.run.ns));
          tr.className = 'ran';
          tr.style.backgroundColor = heat(share);
          tr.appendChild(el('td', { className: 'num hits', text: grouped(r.run.hits) }));
          tr.appendChild(el('td', { className: 'num', text: fmt('wall_ns', r.run.ns) }));
          tr.appendChild(el('td', { className: 'num', text: r.run.hits > 0 ? fmt('wall_ns', r.run.ns / r.run.hits) : '\u2013' }));
          tr.appendChild(el('td', { className: 'num', text: fn.ns > 0 ? (100 * share).toFixed(1) : '\u2013' }));
        } else {
          for (var k = 0; k < 4; k++) tr.appendChild(el('td', { className: 'num' }));
        }
        if (r.text === null) tr.appendChild(el('td', { className: 'src nosrc', text: '(source not available)' }));
        else tr.appendChild(el('td', { className: 'src', text: r.text }));
        body.appendChild(tr);
      });
      table.appendChild(body);
      function toggle() {
        if (folded.has(key)) folded.delete(key); else folded.add(key);
        table.className = 'linetable' + (folded.has(key) ? ' hidden' : '');
        head.firstChild.textContent = folded.has(key) ? '\u25b8' : '\u25be';
      }
      name.addEventListener('click', toggle);
      head.firstChild.addEventListener('click', toggle);
      return el('div', { className: 'linefn', 'data-index': String(index), 'data-name': model.frameName[f],
        'data-file': model.frameFile[f], 'data-first': String(model.frameFirst[f]) }, [head, table]);
    }

    function render() {
      while (box.firstChild) box.removeChild(box.firstChild);
      var fns = lineFunctions(state.root);
      if (!fns.length) box.appendChild(el('p', { className: 'note', text: 'No functions were selected for line profiling.' }));
      fns.forEach(function (fn, i) { box.appendChild(functionBlock(fn, i)); });
    }

    views.push(function (what) { if (what === 'root') render(); });
    return section;
  }

  // ---- findings ----------------------------------------------------------
  // What kind of bottleneck the profile shows (hotscope/_findings.py, kept
  // in meta "findings" as JSON): each finding with where, how much, the
  // evidence and what usually helps. A finding's function, clicked, is
  // searched for in the flame graph. No "findings" meta: no section.

  function buildFindings() {
    var section = el('section', { id: 'findings' });
    var list = null;
    try { list = model.meta.findings ? JSON.parse(model.meta.findings) : null; } catch (e) { list = null; }
    if (!list) { section.className = 'hidden'; return section; }
    section.appendChild(el('h2', null, [document.createTextNode('Findings'),
      el('span', { className: 'hint', text: list.length ? 'by the time that could be saved; ' +
        'click a function to find it in the flame graph' : '' })]));
    if (!list.length) {
      section.appendChild(el('p', { className: 'none', text: 'No bottleneck found: no function, wait, ' +
        'collection or pattern takes 10% of the run or more, and memory did not grow.' }));
      return section;
    }
    var ol = el('ol', { className: 'findings' });
    list.forEach(function (f) {
      var size = f.kind === 'memory' ? fmt('bytes', f.bytes || 0)
        : fmt('wall_ns', Math.round(f.seconds * 1e9)) + ', ' + Math.round(100 * f.share) + '% of the run';
      if (f.threads > 1) size += ' (in ' + f.threads + ' threads)';
      var head = [el('span', { className: 'kind kind-' + f.kind, text: f.title }),
        el('span', { className: 'size', text: size })];
      if (f.function || f.file) {
        var where = (f.function ? f.function + ' ' : '') + '(' + f.file + ':' + f.line + ')';
        head.push(el('a', { className: 'where', href: '#', title: 'find it in the flame graph', text: where,
          onclick: function (evt) {
            evt.preventDefault();
            var box = document.getElementById('search');
            if (!box || !f.function) return;
            box.value = f.function.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            state.term = box.value;
            refresh('search');
            var flame = document.getElementById('flame');
            if (flame && flame.scrollIntoView) flame.scrollIntoView();
          } }));
      }
      ol.appendChild(el('li', { className: 'finding', 'data-kind': f.kind }, [
        el('div', { className: 'head' }, head),
        el('ul', { className: 'evidence' }, f.evidence.map(function (e) { return el('li', { text: e }); })),
        el('details', null, [el('summary', { text: 'usually helps' }),
          el('ul', null, f.remedies.map(function (r) { return el('li', { text: r }); }))])
      ]));
    });
    section.appendChild(ol);
    return section;
  }

  // Tabs over the report's sections, for line profiles, where the lines
  // are what one came for and the flame graph a second look. `sections`:
  // [[title, section, onShow]]; the first is shown.
  function buildTabs(sections) {
    var bar = el('nav', { className: 'tabs', id: 'tabs' });
    function show(k) {
      sections.forEach(function (s, i) {
        s[1].classList.toggle('hidden', i !== k);
        bar.children[i].className = i === k ? 'on' : '';
      });
      if (sections[k][2]) sections[k][2]();
    }
    sections.forEach(function (s, i) {
      bar.appendChild(el('button', { id: 'tab-' + s[1].id, text: s[0], onclick: function () { show(i); } }));
    });
    show(0);
    return bar;
  }

  // ---- start -----------------------------------------------------------

  function defaultWeight() {
    var asked = document.body.getAttribute('data-weight');
    if (asked && model.has(asked)) return asked;
    var clock = model.meta.clock === 'cpu' ? 'cpu_ns' : 'wall_ns';
    if (model.meta.engine === 'sample' && model.has('samples')) return 'samples';
    if (model.has(clock)) return clock;
    for (var i = 0; i < WEIGHT_ORDER.length; i++) if (model.has(WEIGHT_ORDER[i])) return WEIGHT_ORDER[i];
    return 'samples';
  }

  function start() {
    // Milliseconds each phase took, for people and tests to see.
    var timings = {}, last = performance.now();
    function lap(name) { var t = performance.now(); timings[name] = t - last; last = t; }
    window.hotscopeReport = { timings: timings };
    var app = document.getElementById('app');
    var data = document.getElementById('hotscope-profile');
    var json = JSON.parse(data.textContent);
    lap('parse');
    model = new Model(json);
    json = null;
    lap('model');
    state.weight = defaultWeight();
    while (app.firstChild) app.removeChild(app.firstChild);
    app.appendChild(buildHeader());
    app.appendChild(buildFindings());
    app.appendChild(buildControls());
    app.appendChild(buildTimeline());
    var flame = buildFlame(), table = buildTable(), tree = buildTree();
    if (isLineProfile()) {
      var lines = buildLines();
      app.appendChild(buildTabs([['Lines', lines], ['Flame graph', flame.section, flame.draw],
        ['Functions', table], ['Call tree', tree]]));
      app.appendChild(lines);
    }
    app.appendChild(flame.section);
    app.appendChild(table);
    app.appendChild(buildSlowCalls());
    app.appendChild(tree);
    window.hotscopeReport.model = model;
    window.hotscopeReport.state = state;
    lap('build');
    for (var i = 0; i < views.length; i++) { views[i]('root'); lap('view' + i); }
    document.body.setAttribute('data-ready', '1');
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

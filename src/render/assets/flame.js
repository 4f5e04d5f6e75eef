// flame.js - the script of hotscope's flame graph SVG (written by
// src/render/flamegraph_svg.c, which lays out every box; embedded at build
// time by tools/embed_assets.py). It adds, without any library:
//   - click a frame: zoom so that frame spans the whole width; its callers
//     stay (dimmed) below it, everything beside it is hidden;
//   - "Reset zoom" (or Escape): back to the whole graph;
//   - "Search" (or Ctrl-F, or "/"): a regular expression, or a plain
//     substring when the text is not a valid one, matched against each
//     frame's label "function (file:line)"; matches turn magenta and
//     "Matched: x% of total" counts each matched stretch of width once;
//   - a tooltip with the frame's full label, file, total and self weight.
// Labels are re-truncated to fit after a zoom. All text goes in through
// textContent, never markup, so names from the profile stay text.
(function () {
  'use strict';
  var CHAR_WIDTH = 6.8;  // as flamegraph_svg.c
  var EPS = 0.02;        // coordinates are written with 2 decimals

  function init() {
    var svg = document.getElementById('hotscope-flame');
    var num = function (name) { return parseFloat(svg.getAttribute(name)); };
    var left = num('data-left'), width = num('data-width');
    var row = num('data-row'), top = num('data-top'), rows = num('data-rows');
    var icicle = svg.getAttribute('data-icicle') === '1';
    var group = document.getElementById('frames');
    var nodes = group.querySelectorAll('g.f');
    var n = nodes.length;
    var x0 = new Float64Array(n), w0 = new Float64Array(n), depth = new Int32Array(n);
    var labels = new Array(n), tips = new Array(n), merged = new Uint8Array(n);
    var rects = new Array(n), texts = new Array(n);
    for (var i = 0; i < n; i++) {
      var g = nodes[i];
      g.setAttribute('data-i', String(i));
      var title = g.querySelector('title');
      tips[i] = title ? title.textContent : '';
      labels[i] = tips[i].split('\n')[0];
      if (title) g.removeChild(title);  // the script's tooltip replaces it
      rects[i] = g.querySelector('rect');
      texts[i] = g.querySelector('text');
      x0[i] = parseFloat(rects[i].getAttribute('x'));
      w0[i] = parseFloat(rects[i].getAttribute('width'));
      var y = parseFloat(rects[i].getAttribute('y'));
      var level = Math.round((y - top) / row);
      depth[i] = icicle ? level : rows - 1 - level;
      merged[i] = g.classList.contains('m') ? 1 : 0;
    }

    function fitLabel(i, w) {
      var fit = Math.floor((w - 6) / CHAR_WIDTH);
      var chars = Array.from(labels[i]);
      if (fit < 3) return '';
      if (chars.length <= fit) return labels[i];
      return chars.slice(0, fit - 2).join('') + '..';
    }

    function place(i, x, w) {
      rects[i].setAttribute('x', x.toFixed(2));
      rects[i].setAttribute('width', w.toFixed(2));
      var text = fitLabel(i, w);
      var t = texts[i];
      if (!t && text) {
        t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
        t.setAttribute('y', String(parseFloat(rects[i].getAttribute('y')) + 11));
        nodes[i].appendChild(t);
        texts[i] = t;
      }
      if (t) {
        t.setAttribute('x', (x + 3).toFixed(2));
        t.textContent = text;
      }
    }

    var resetButton = document.getElementById('reset');
    var zoomed = -1;

    function zoom(target) {
      var X = x0[target], W = w0[target], D = depth[target];
      if (!(W > 0)) return;
      var k = width / W;
      for (var j = 0; j < n; j++) {
        var g = nodes[j];
        var inside = x0[j] >= X - EPS && x0[j] + w0[j] <= X + W + EPS;
        var covers = x0[j] <= X + EPS && x0[j] + w0[j] >= X + W - EPS;
        if (depth[j] >= D && inside) {
          g.style.display = '';
          g.classList.remove('up');
          place(j, left + (x0[j] - X) * k, w0[j] * k);
        } else if (depth[j] < D && covers) {
          g.style.display = '';
          g.classList.add('up');
          place(j, left, width);
        } else {
          g.style.display = 'none';
        }
      }
      zoomed = target;
      resetButton.style.visibility = 'visible';
    }

    function unzoom() {
      for (var j = 0; j < n; j++) {
        nodes[j].style.display = '';
        nodes[j].classList.remove('up');
        place(j, x0[j], w0[j]);
      }
      zoomed = -1;
      resetButton.style.visibility = 'hidden';
    }

    var matchedText = document.getElementById('matched');
    var searchButton = document.getElementById('search');

    function search(term) {
      var re = null;
      try { re = new RegExp(term); } catch (e) { re = null; }
      var spans = [];
      for (var j = 0; j < n; j++) {
        var hit = !merged[j] && term !== '' &&
          (re ? re.test(labels[j]) : labels[j].indexOf(term) >= 0);
        nodes[j].classList.toggle('hit', hit);
        if (hit) spans.push([x0[j], x0[j] + w0[j]]);
      }
      if (term === '') {
        matchedText.textContent = '';
        searchButton.textContent = 'Search';
        return;
      }
      // A match inside another (recursion, or a matched caller) covers the
      // same time: count each stretch of width once.
      spans.sort(function (a, b) { return a[0] - b[0]; });
      var covered = 0, end = -Infinity;
      for (var s = 0; s < spans.length; s++) {
        var a = Math.max(spans[s][0], end), b = spans[s][1];
        if (b > a) covered += b - a;
        if (b > end) end = b;
      }
      var share = width > 0 ? 100 * covered / width : 0;
      matchedText.textContent = 'Matched: ' + share.toFixed(1) + '% of total (' +
        spans.length + ' frame' + (spans.length === 1 ? '' : 's') + ')';
      searchButton.textContent = 'Clear search';
    }

    function promptSearch() {
      var term = window.prompt('Search frames (regular expression or text):', '');
      if (term !== null) search(term);
    }

    function searchButtonClicked() {
      if (searchButton.textContent !== 'Search') search(''); else promptSearch();
    }

    // The tooltip: a box of lines that follows the pointer.
    var tip = document.getElementById('tip');
    var tipRect = tip.querySelector('rect'), tipText = tip.querySelector('text');
    var svgWidth = parseFloat(svg.getAttribute('width'));

    function showTip(i, evt) {
      while (tipText.firstChild) tipText.removeChild(tipText.firstChild);
      var lines = tips[i].split('\n'), longest = 0;
      for (var k = 0; k < lines.length; k++) {
        var span = document.createElementNS('http://www.w3.org/2000/svg', 'tspan');
        span.setAttribute('dy', k === 0 ? '0' : '15');
        span.textContent = lines[k];
        tipText.appendChild(span);
        longest = Math.max(longest, Array.from(lines[k]).length);
      }
      var pt = svg.createSVGPoint();
      pt.x = evt.clientX; pt.y = evt.clientY;
      var p = pt.matrixTransform(svg.getScreenCTM().inverse());
      var boxW = Math.min(longest * 7.3 + 12, svgWidth - 4), boxH = lines.length * 15 + 8;
      var x = p.x + 12, y = p.y + 16;
      if (x + boxW > svgWidth - 2) x = Math.max(2, p.x - boxW - 8);
      if (y < 2) y = 2;
      tipRect.setAttribute('x', x); tipRect.setAttribute('y', y);
      tipRect.setAttribute('width', boxW); tipRect.setAttribute('height', boxH);
      tipText.setAttribute('x', x + 6); tipText.setAttribute('y', y + 16);
      var spans = tipText.childNodes;
      for (var m = 0; m < spans.length; m++) spans[m].setAttribute('x', x + 6);
      tip.setAttribute('visibility', 'visible');
    }

    function frameOf(evt) {
      var g = evt.target.closest ? evt.target.closest('g.f') : null;
      return g ? parseInt(g.getAttribute('data-i'), 10) : -1;
    }

    group.addEventListener('click', function (evt) {
      var i = frameOf(evt);
      if (i >= 0) zoom(i);
    });
    group.addEventListener('mousemove', function (evt) {
      var i = frameOf(evt);
      if (i >= 0) showTip(i, evt); else tip.setAttribute('visibility', 'hidden');
    });
    group.addEventListener('mouseleave', function () { tip.setAttribute('visibility', 'hidden'); });
    resetButton.addEventListener('click', unzoom);
    searchButton.addEventListener('click', searchButtonClicked);
    document.addEventListener('keydown', function (evt) {
      if ((evt.ctrlKey || evt.metaKey) && (evt.key === 'f' || evt.key === 'F')) {
        evt.preventDefault();
        promptSearch();
      } else if (evt.key === '/') {
        evt.preventDefault();
        promptSearch();
      } else if (evt.key === 'Escape') {
        if (zoomed >= 0) unzoom(); else search('');
      }
    });
    svg.setAttribute('data-ready', '1');
  }

  if (document.readyState === 'complete') init();
  else window.addEventListener('load', init);
})();

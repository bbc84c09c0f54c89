// support-sla pages: the board's countdown, its refresh and its filters. No dependencies.
// Every text comes from the server's HTML, already escaped; this script only moves nodes,
// sets textContent and toggles classes.
(function () {
  'use strict';

  var REFRESH_MS = 15000;
  // The server's clock minus the browser's: the countdown follows the server.
  var offset = 0;

  function syncClock(doc) {
    var now = Date.parse(doc.body.getAttribute('data-now'));
    if (!isNaN(now)) {
      offset = now - Date.now();
    }
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  // The same format as the server's: 45m, 2h 05m, 3d 04h, -1h 20m.
  function timeLeft(ms) {
    var sign = ms < 0 ? '-' : '';
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor(minutes / 60) % 24;
    minutes = minutes % 60;
    if (days > 0) {
      return sign + days + 'd ' + pad(hours) + 'h';
    }
    if (hours > 0) {
      return sign + hours + 'h ' + pad(minutes) + 'm';
    }
    return sign + minutes + 'm';
  }

  function setStanding(row, standing) {
    ['breached', 'at-risk', 'on-track'].forEach(function (name) {
      row.classList.toggle(name, name === standing);
    });
  }

  function tick() {
    var now = Date.now() + offset;
    var rows = document.querySelectorAll('#board-rows tr[data-due]');
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var left = Date.parse(row.getAttribute('data-due')) - now;
      var cell = row.querySelector('.time-left');
      if (cell) {
        cell.textContent = timeLeft(left);
      }
      if (row.classList.contains('breached')) {
        continue;
      }
      if (left <= 0) {
        setStanding(row, 'breached');
      } else if (row.hasAttribute('data-warning') &&
                 Date.parse(row.getAttribute('data-warning')) <= now &&
                 row.classList.contains('on-track')) {
        // Only a running first response has a warning (data-warning); at it, the row is at risk.
        setStanding(row, 'at-risk');
      }
    }
  }

  function refreshState(text, stale) {
    var state = document.getElementById('refresh-state');
    if (state) {
      state.textContent = text;
      state.classList.toggle('stale', stale);
    }
  }

  // Fetch this same page again and swap in its rows and summary.
  function refresh() {
    fetch(window.location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('HTTP ' + response.status);
        }
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html');
        ['board-rows', 'summary'].forEach(function (id) {
          var next = fresh.getElementById(id);
          var current = document.getElementById(id);
          if (next && current) {
            current.replaceWith(document.importNode(next, true));
          }
        });
        syncClock(fresh);
        tick();
        refreshState('updated ' + new Date().toLocaleTimeString(), false);
      })
      .catch(function (error) {
        refreshState('not updated: ' + error.message, true);
      });
  }

  function autoSubmit() {
    var form = document.getElementById('filters');
    if (!form) {
      return;
    }
    var selects = form.querySelectorAll('select');
    for (var i = 0; i < selects.length; i++) {
      selects[i].addEventListener('change', function () {
        form.submit();
      });
    }
  }

  syncClock(document);
  autoSubmit();
  if (document.getElementById('board-rows')) {
    tick();
    window.setInterval(tick, 1000);
    window.setInterval(refresh, REFRESH_MS);
  }
})();

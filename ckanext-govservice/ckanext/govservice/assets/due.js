/* "What is due for me" (/due): computed in the browser from the open dataset of
 * reminder rules (/due/rules.json); what the citizen types never leaves the page.
 *
 * The date arithmetic is core/due.py's (a month or a year later keeps the day of
 * the month, or takes the month's last day), checked against it by
 * tests/unit/test_due_page_script.py under node. The iCalendar file (RFC 5545) is
 * built here only: one VEVENT per service due, an all-day DTSTART;VALUE=DATE, a
 * SUMMARY, a DESCRIPTION and a VALARM a week before.
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module.exports) { module.exports = api; }
  else { root.govserviceDue = api; }
}(this, function () {
  'use strict';

  // ------------------------------------------------------------ dates (UTC days, no time zone)

  function parseDate(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || '').trim());
    if (!m) { return null; }
    var y = +m[1], mo = +m[2], d = +m[3];
    var day = new Date(Date.UTC(y, mo - 1, d));
    if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) { return null; }
    return day;
  }

  function iso(day) { return day.toISOString().slice(0, 10); }

  function lastDay(year, month) { return new Date(Date.UTC(year, month + 1, 0)).getUTCDate(); }

  function shift(day, amount, unit) {
    if (unit === 'days') { return new Date(day.getTime() + amount * 86400000); }
    var months = amount * (unit === 'years' ? 12 : 1);
    var index = day.getUTCFullYear() * 12 + day.getUTCMonth() + months;
    var year = Math.floor(index / 12), month = index - year * 12;
    return new Date(Date.UTC(year, month, Math.min(day.getUTCDate(), lastDay(year, month))));
  }

  function dueDate(triggerDay, offset, unit, direction) {
    return shift(triggerDay, direction === 'before' ? -offset : offset, unit);
  }

  function daysBetween(a, b) { return Math.round((b.getTime() - a.getTime()) / 86400000); }

  // ------------------------------------------------------------ what is due

  /* events: [{event, date}] or [{output, issued}] with Date values; as core.due.due. */
  function due(rules, events, today) {
    var found = [];
    rules.forEach(function (rule) {
      events.forEach(function (event) {
        var triggerDay;
        if (event.output !== undefined) {
          if (rule.trigger !== 'output_expiry' || (event.output !== rule.renews && event.output !== rule.service)) { return; }
          triggerDay = shift(event.issued, rule.output_validity, rule.output_validity_unit);
        } else if (rule.trigger === event.event) {
          triggerDay = event.date;
        } else { return; }
        var day = dueDate(triggerDay, rule.offset, rule.offset_unit, rule.direction);
        var row = {};
        Object.keys(rule).forEach(function (k) { row[k] = rule[k]; });
        row.trigger_date = iso(triggerDay);
        row.due_date = iso(day);
        row.days_left = daysBetween(today, day);
        found.push(row);
      });
    });
    return found.sort(function (a, b) {
      return a.due_date < b.due_date ? -1 : a.due_date > b.due_date ? 1
        : String(a.service || '') < String(b.service || '') ? -1 : String(a.service || '') > String(b.service || '') ? 1 : 0;
    });
  }

  // ------------------------------------------------------------ iCalendar (RFC 5545)

  function escapeText(text) {
    return String(text == null ? '' : text).replace(/\\/g, '\\\\').replace(/;/g, '\\;')
      .replace(/,/g, '\\,').replace(/\r\n|\r|\n/g, '\\n');
  }

  function utf8Length(ch) {
    var c = ch.codePointAt(0);
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }

  /* Content lines longer than 75 octets folded (CRLF and a space), never inside a character. */
  function fold(line) {
    var out = [], current = '', octets = 0;
    Array.from(line).forEach(function (ch) {
      var n = utf8Length(ch);
      if (octets + n > 75) { out.push(current); current = ' '; octets = 1; }
      current += ch; octets += n;
    });
    out.push(current);
    return out.join('\r\n');
  }

  function stamp(now) {
    return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  }

  function compact(dayText) { return dayText.replace(/-/g, ''); }

  /* items: [{uid, date: 'YYYY-MM-DD', summary, description, url?}]; alarmDays before. */
  function ics(items, options) {
    options = options || {};
    var now = options.now || new Date();
    var alarm = options.alarmDays === undefined ? 7 : options.alarmDays;
    var lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//GovService//What is due for me//ZH',
                 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH'];
    items.forEach(function (item) {
      var start = parseDate(item.date);
      lines.push('BEGIN:VEVENT', 'UID:' + escapeText(item.uid), 'DTSTAMP:' + stamp(now),
                 'DTSTART;VALUE=DATE:' + compact(item.date),
                 'DTEND;VALUE=DATE:' + compact(iso(shift(start, 1, 'days'))),
                 'SUMMARY:' + escapeText(item.summary), 'DESCRIPTION:' + escapeText(item.description));
      if (item.url) { lines.push('URL:' + item.url); }
      lines.push('BEGIN:VALARM', 'ACTION:DISPLAY', 'TRIGGER:-P' + alarm + 'D',
                 'DESCRIPTION:' + escapeText(item.summary), 'END:VALARM', 'END:VEVENT');
    });
    lines.push('END:VCALENDAR');
    return lines.map(fold).join('\r\n') + '\r\n';
  }

  // ------------------------------------------------------------ the page

  function text(record, key, lang) {
    return (lang === 'en' && record[key + '_en']) || record[key] || '';
  }

  function start(document, window) {
    var page = document.getElementById('due-page');
    if (!page || !window.fetch) { return; }
    var lang = page.getAttribute('data-lang');
    var words = JSON.parse(document.getElementById('due-words').textContent);
    var form = document.getElementById('due-form');
    var results = document.getElementById('due-results');
    var download = document.getElementById('due-ics');
    var rows = document.getElementById('due-events');
    var template = rows.querySelector('.due-event');
    var loaded = window.fetch(page.getAttribute('data-rules')).then(function (r) { return r.json(); });
    var lastFound = [];
    page.classList.add('due-scripted');

    function read() {
      var events = [], problem = null;
      rows.querySelectorAll('.due-event').forEach(function (row, i) {
        var kind = row.querySelector('[name=kind]').value;
        var value = row.querySelector('[name=date]').value;
        if (!kind && !value) { return; }
        var day = parseDate(value);
        if (!day) { problem = problem || words.bad_date.replace('{n}', i + 1); return; }
        if (kind.indexOf('output:') === 0) { events.push({output: kind.slice(7), issued: day}); }
        else if (kind) { events.push({event: kind, date: day}); }
        else { problem = problem || words.no_event.replace('{n}', i + 1); }
      });
      return {events: events, problem: problem};
    }

    function show(document_, found, today) {
      results.textContent = '';
      if (!found.length) {
        var none = document.createElement('p');
        none.textContent = words.nothing_due;
        results.appendChild(none);
      }
      found.forEach(function (row) {
        var service = document_.services[row.service] || {};
        var item = document.createElement('li');
        item.className = 'due-item' + (row.days_left < 0 ? ' due-overdue' : '');
        var link = document.createElement('a');
        link.href = page.getAttribute('data-service-base') + row.service;
        link.textContent = text(row, 'service_title', lang) || row.service;
        var when = document.createElement('p');
        when.className = 'due-when';
        when.textContent = row.due_date + ' · ' + (row.days_left < 0
          ? words.overdue.replace('{n}', -row.days_left) : words.days_left.replace('{n}', row.days_left));
        item.appendChild(link);
        item.appendChild(when);
        var prepare = text(row, 'prepare', lang);
        var bring = (service.documents || []).filter(function (d) { return d.mandatory && !d.no_need_to_bring; })
          .map(function (d) { return text(d, 'name', lang); });
        var spared = (service.documents || []).filter(function (d) { return d.no_need_to_bring; })
          .map(function (d) { return text(d, 'name', lang); });
        [[words.prepare, prepare], [words.bring, bring.join(words.separator)],
         [words.no_need, spared.join(words.separator)],
         [words.where, (service.centres || []).map(function (c) { return text(c, 'title', lang) || c.name; })
           .concat((service.channels || []).map(function (c) { return c.name || c.address || c.url; }))
           .filter(Boolean).join(words.separator)]].forEach(function (pair) {
          if (!pair[1]) { return; }
          var p = document.createElement('p');
          p.textContent = pair[0] + words.colon + pair[1];
          item.appendChild(p);
        });
        results.appendChild(item);
      });
      lastFound = found;
      download.hidden = !found.length;
    }

    page.querySelector('#due-add').addEventListener('click', function () {
      var copy = template.cloneNode(true);
      copy.querySelectorAll('select, input').forEach(function (field) { field.value = ''; });
      rows.appendChild(copy);
    });

    form.addEventListener('submit', function (e) {
      e.preventDefault();   // nothing goes to the server
      var read_ = read();
      var message = document.getElementById('due-message');
      message.textContent = read_.problem || '';
      if (read_.problem) { return; }
      var now = new Date();   // the citizen's own day, as a UTC date like the rules'
      var today = new Date(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()));
      loaded.then(function (document_) { show(document_, due(document_.rules, read_.events, today), today); });
    });

    download.addEventListener('click', function () {
      var body = ics(lastFound.map(function (row) {
        var title = text(row, 'service_title', lang) || row.service;
        var address = window.location.origin + page.getAttribute('data-service-base') + row.service;
        return {uid: row.service + '-' + row.rule + '-' + row.due_date + '@' + window.location.hostname,
                date: row.due_date, summary: words.ics_summary.replace('{service}', title),
                description: [text(row, 'prepare', lang), address].filter(Boolean).join('\n'),
                url: address};
      }));
      var blob = new window.Blob([body], {type: 'text/calendar;charset=utf-8'});
      var a = document.createElement('a');
      a.href = window.URL.createObjectURL(blob);
      a.download = 'due.ics';
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  }

  if (typeof document !== 'undefined' && typeof window !== 'undefined') {
    document.addEventListener('DOMContentLoaded', function () { start(document, window); });
  }

  return {parseDate: parseDate, shift: shift, dueDate: dueDate, due: due, ics: ics, fold: fold,
          escapeText: escapeText};
}));

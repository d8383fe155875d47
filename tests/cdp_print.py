#!/usr/bin/env python3
"""cdp_print.py PAGE OUT_PDF WIDTH_MM HEIGHT_MM MARGIN_MM - print a page on a given paper the way
Chromium prints it, through the DevTools protocol over a pipe (--remote-debugging-pipe: no port,
no network). Standard library only. For the report tests: `--print-to-pdf` alone always lays the
page out on Letter, so it cannot say whether the page fits A4.

  1. The page is laid out for print (media emulation) at the paper's printable width in CSS
     pixels (WIDTH_MM minus twice MARGIN_MM, the report's @page side margin), and one line
     "layout WIDTH RIGHT CLIPPED" goes to stdout: that width, the rightmost edge of any element
     and the number of elements whose content is wider than their own box while they hide or
     scroll the rest (both 0 / <= WIDTH when nothing is cut).
  2. It is printed to OUT_PDF on that paper (Page.printToPDF, the page's own margins).
Exit status 0, or 1 with a message when Chromium or the protocol fails (bounded in time)."""
import base64
import json
import os
import select
import subprocess
import sys
import tempfile
import time

MM_PX = 96 / 25.4

MEASURE = """(() => {
  const w = document.documentElement.clientWidth;
  let right = 0, clipped = 0;
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > right) right = r.right;
    const o = getComputedStyle(e).overflowX;
    if ((o === 'hidden' || o === 'auto' || o === 'scroll' || o === 'clip') &&
        e.scrollWidth > e.clientWidth + 1) clipped++;
  }
  return w + ' ' + Math.ceil(right) + ' ' + clipped;
})()"""


class Browser:
    """Headless Chromium with the protocol on fds 3 (its input) and 4 (its output)."""

    def __init__(self, profile, deadline):
        self.deadline = deadline
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def wire():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
             '--no-first-run', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--disable-extensions', '--hide-scrollbars',
             '--user-data-dir=' + profile, '--remote-debugging-pipe', 'about:blank'],
            preexec_fn=wire, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b''
        self.next_id = 0

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.to_child, json.dumps(msg).encode() + b'\0')
        return self.next_id

    def message(self):
        while b'\0' not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_child], [], [], left)[0]:
                sys.exit('cdp_print.py: no answer from chromium in time')
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                sys.exit('cdp_print.py: chromium closed the pipe')
            self.buf += chunk
        raw, self.buf = self.buf.split(b'\0', 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            m = self.message()
            if m.get('id') == want:
                if 'error' in m:
                    sys.exit('cdp_print.py: %s: %s' % (method, m['error']))
                return m.get('result', {})

    def wait_event(self, name, session):
        while True:
            m = self.message()
            if m.get('method') == name and m.get('sessionId') == session:
                return m

    def close(self):
        try:
            self.send('Browser.close')
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    page, out, width_mm, height_mm, margin_mm = sys.argv[1:6]
    width_mm, height_mm, margin_mm = float(width_mm), float(height_mm), float(margin_mm)
    printable = int((width_mm - 2 * margin_mm) * MM_PX)
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(profile, time.monotonic() + 90)
        try:
            target = b.call('Target.createTarget', {'url': 'about:blank'})['targetId']
            s = b.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
            b.call('Page.enable', session=s)
            b.call('Page.navigate', {'url': 'file://' + os.path.abspath(page)}, session=s)
            b.wait_event('Page.loadEventFired', s)
            b.call('Emulation.setEmulatedMedia', {'media': 'print'}, session=s)
            b.call('Emulation.setDeviceMetricsOverride',
                   {'width': printable, 'height': int(height_mm * MM_PX),
                    'deviceScaleFactor': 1, 'mobile': False}, session=s)
            r = b.call('Runtime.evaluate', {'expression': MEASURE, 'returnByValue': True},
                       session=s)
            print('layout', r['result']['value'])
            b.call('Emulation.clearDeviceMetricsOverride', session=s)
            pdf = b.call('Page.printToPDF',
                         {'paperWidth': width_mm / 25.4, 'paperHeight': height_mm / 25.4,
                          'printBackground': True, 'preferCSSPageSize': False}, session=s)
            with open(out, 'wb') as f:
                f.write(base64.b64decode(pdf['data']))
        finally:
            b.close()


if __name__ == '__main__':
    main()

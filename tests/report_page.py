#!/usr/bin/env python3
"""report_page.py - read a `tlsaudit report` HTML page (or Chromium's DOM dump of it) for the
report tests. Standard library only.

  report_page.py figures FILE   one line per figure the page marks for machines:
                                  id NAME VALUE        elements with id and data-value
                                  off IP HS REFUSED HINT   offender rows (tr.off)
                                  ver GROUP VERSION HS CLIENTS   version rows (tr.vrow)
                                  more TABLE N         "N more not shown" notes
  report_page.py elements FILE  the element census: one line "TAG COUNT" per tag, sorted, then
                                  lines "BAD what" for anything a safe page never holds: script,
                                  iframe, object, embed, img, link, base, form, meta refresh; an on*
                                  attribute; a src attribute; an href not starting with '#'; a
                                  style url() not naming '#'; an http(s) reference outside the
                                  SVG namespace declaration
  report_page.py text FILE      the page's text content (for searching wire strings)
"""
import html.parser
import re
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = {}
        self.bad = []
        self.figs = []
        self.text = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag in ("script", "iframe", "object", "embed", "img", "link", "base", "form", "frame"):
            self.bad.append("element <%s>" % tag)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.bad.append("meta refresh")
        for k, v in attrs:
            v = v or ""
            if k.startswith("on"):
                self.bad.append("attribute %s on <%s>" % (k, tag))
            if k in ("src", "srcset", "action", "formaction", "xlink:href", "background"):
                self.bad.append("attribute %s=%r on <%s>" % (k, v, tag))
            if k == "href" and not v.startswith("#"):
                self.bad.append("href %r on <%s>" % (v, tag))
            if k == "style" and re.search(r"url\(\s*['\"]?[^#'\"\s]", v):
                self.bad.append("style url() on <%s>" % tag)
            if k not in ("xmlns",) and re.search(r"https?:", v) and k != "content":
                self.bad.append("http reference in %s=%r" % (k, v))
        if "id" in a and "data-value" in a:
            self.figs.append("id %s %s" % (a["id"], a["data-value"]))
        cls = (a.get("class") or "").split()
        if tag == "tr" and "off" in cls:
            self.figs.append("off %s %s %s %s" % (a.get("data-client"), a.get("data-hs"),
                                                  a.get("data-refused"), a.get("data-hint")))
        if tag == "tr" and "vrow" in cls:
            self.figs.append("ver %s %s %s %s" % (a.get("data-group"),
                                                  a.get("data-version").replace(" ", "_"),
                                                  a.get("data-hs"), a.get("data-clients")))
        if "data-more" in a:
            self.figs.append("more %s" % a["data-more"])
        if tag == "style":
            self.in_style = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            for m in re.finditer(r"url\(\s*['\"]?([^)'\"]*)", data):
                if not m.group(1).startswith("#"):
                    self.bad.append("CSS url(%s)" % m.group(1))
            if "@import" in data:
                self.bad.append("CSS @import")
        else:
            self.text.append(data)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    p = Page()
    p.feed(open(path, encoding="utf-8", errors="strict").read())
    p.close()
    if mode == "figures":
        print("\n".join(p.figs))
    elif mode == "elements":
        for t in sorted(p.tags):
            print(t, p.tags[t])
        for b in p.bad:
            print("BAD", b)
    elif mode == "text":
        sys.stdout.write("".join(p.text))
    else:
        sys.exit("unknown mode " + mode)


main()

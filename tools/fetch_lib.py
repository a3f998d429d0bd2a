#!/usr/bin/env python3
"""Fetch the pinned device-side libraries (lib/requirements.txt) into lib/.

Some MicroPython packages on the package index are bare sdists without setup.py, which
`pip download` refuses. So we read the index ourselves, the way pip is configured to: the index
URL comes from pip's configuration (pip config, PIP_INDEX_URL / PIP_EXTRA_INDEX_URL), falling
back to pip's own default. Each file is checked against the pinned sha256 before anything is
extracted; only the listed members are written.
"""
import hashlib
import html.parser
import io
import os
import re
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "lib")


def pip_indexes():
    """Index URLs in pip's order: index-url (or pip's default), then extra-index-url."""
    index, extra = os.environ.get("PIP_INDEX_URL"), os.environ.get("PIP_EXTRA_INDEX_URL", "").split()
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        key, _, val = line.partition("=")
        val = val.strip().strip("'\"")
        if key.endswith(".index-url") and not key.endswith("extra-index-url") and not index:
            index = val
        elif key.endswith(".extra-index-url"):
            extra += val.split()
    if not index:
        from pip._internal.models.index import PyPI   # pip's own default index
        index = PyPI.simple_url
    seen, urls = set(), []
    for u in [index] + extra:
        if u not in seen:
            seen.add(u)
            urls.append(u.rstrip("/") + "/")
    return urls


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def find_sdist(name, version):
    norm = re.sub(r"[-_.]+", "-", name).lower()
    want = {"%s-%s.tar.gz" % (n, version) for n in (name, norm, name.replace("-", "_"))}
    errors = []
    for index in pip_indexes():
        page = urllib.parse.urljoin(index, norm + "/")
        try:
            with urllib.request.urlopen(page, timeout=60) as r:
                text = r.read().decode("utf-8", "replace")
        except OSError as e:
            errors.append("%s: %s" % (page, e))
            continue
        p = _Links()
        p.feed(text)
        for href in p.links:
            url = urllib.parse.urljoin(page, href)
            fname = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
            if fname in want:
                return url.split("#", 1)[0]
        errors.append("%s: no %s" % (page, " / ".join(sorted(want))))
    raise SystemExit("fetch_lib: %s %s not found:\n  %s" % (name, version, "\n  ".join(errors)))


def pins():
    with open(os.path.join(LIB, "requirements.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                yield line[0], line[1], line[2], line[3:]


def fetch(name, version, sha, members):
    # the stamp sits next to the fetched files, so the one .gitignore line covers both
    stamp = os.path.join(LIB, os.path.dirname(members[0]), ".%s-%s.sha256" % (name, version))
    if all(os.path.exists(os.path.join(LIB, m)) for m in members) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == sha:
                return False
    url = find_sdist(name, version)
    with urllib.request.urlopen(url, timeout=120) as r:
        data = r.read()
    got = hashlib.sha256(data).hexdigest()
    if got != sha:
        raise SystemExit("fetch_lib: %s %s: sha256 %s, pinned %s - refusing it" % (name, version, got, sha))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        by_tail = {}
        for m in t.getmembers():
            parts = m.name.split("/", 1)
            if len(parts) == 2 and m.isfile():
                by_tail[parts[1]] = m
        for member in members:
            if member not in by_tail:
                raise SystemExit("fetch_lib: %s has no %s" % (url, member))
            out = os.path.join(LIB, member)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(t.extractfile(by_tail[member]).read())
    with open(stamp, "w") as f:
        f.write(sha + "\n")
    return True


def main():
    for name, version, sha, members in pins():
        did = fetch(name, version, sha, members)
        print("fetch_lib: %s %s %s" % (name, version, "fetched, sha256 ok" if did else "up to date"))


if __name__ == "__main__":
    main()

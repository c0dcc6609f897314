#!/usr/bin/env python3
"""Builds data/pydoc/, Tide's shipped text corpus, from Debian's python3.11-doc package.

    python3 scripts/data/prepare_corpus.py                 # downloads the .deb with apt-get
    python3 scripts/data/prepare_corpus.py --deb FILE.deb  # or uses one you already have

The package ships the reStructuredText sources of the Python 3.11 documentation under
usr/share/doc/python3.11/html/_sources/ (about 500 *.rst.txt files, PSF licence). This script
extracts them with dpkg-deb, keeps them as they are (UTF-8, LF line ends, each ending in a
newline) and writes:

  data/pydoc/pydoc.txt.gz   the documents concatenated in path order, nothing between them,
                            gzip level 9 with mtime 0 and no file name (so reruns give the
                            same bytes)
  data/pydoc/index.tsv      one row per document: path, split, byte offset and byte length in
                            the uncompressed text (offsets are 0-based)
  data/pydoc/copyright      the package's Debian copyright file (the PSF licence texts)
  data/pydoc/SOURCE.md      where the files came from, versions, split rule, sizes, checksums

Split: the documents are ordered by the SHA-256 of their path; the first 5% (rounded) are the
validation set, the rest train. The rule depends only on the paths, so it is stable across
reruns and package revisions that keep the same file names.
"""
import argparse
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile

PACKAGE = "python3.11-doc"
SOURCES = "usr/share/doc/python3.11/html/_sources"
COPYRIGHT = "usr/share/doc/python3.11-doc/copyright"
VAL_FRACTION = 0.05
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout


def fetch_deb(workdir):
    run(["apt-get", "download", PACKAGE], cwd=workdir)
    debs = [f for f in os.listdir(workdir) if f.startswith(PACKAGE + "_") and f.endswith(".deb")]
    if len(debs) != 1:
        sys.exit(f"expected one {PACKAGE} .deb in {workdir}, found {debs}")
    return os.path.join(workdir, debs[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deb", help=f"a {PACKAGE} .deb file (default: apt-get download it)")
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "pydoc"), help="output directory")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        deb = os.path.abspath(args.deb) if args.deb else fetch_deb(tmp)
        version = run(["dpkg-deb", "--field", deb, "Version"]).strip()
        deb_sha = hashlib.sha256(open(deb, "rb").read()).hexdigest()
        tree = os.path.join(tmp, "x")
        run(["dpkg-deb", "-x", deb, tree])
        src = os.path.join(tree, SOURCES)
        paths = []
        for d, _, files in os.walk(src):
            for f in files:
                if f.endswith(".txt"):
                    paths.append(os.path.relpath(os.path.join(d, f), src))
        paths.sort()
        docs = []
        for p in paths:
            raw = open(os.path.join(src, p), "rb").read()
            text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # must be UTF-8
            if not text.endswith("\n"):
                text += "\n"
            docs.append((p[: -len(".txt")] if p.endswith(".rst.txt") else p, text.encode("utf-8")))

        by_hash = sorted(range(len(docs)), key=lambda i: hashlib.sha256(docs[i][0].encode()).hexdigest())
        n_val = max(1, round(VAL_FRACTION * len(docs)))
        val = set(by_hash[:n_val])

        os.makedirs(args.out, exist_ok=True)
        blob = io.BytesIO()
        rows = []
        for i, (name, data) in enumerate(docs):
            rows.append((name, "val" if i in val else "train", blob.tell(), len(data)))
            blob.write(data)
        text = blob.getvalue()
        gz = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=gz, mtime=0) as g:
            g.write(text)
        open(os.path.join(args.out, "pydoc.txt.gz"), "wb").write(gz.getvalue())
        with open(os.path.join(args.out, "index.tsv"), "w", encoding="utf-8", newline="\n") as f:
            f.write("# path\tsplit\toffset\tbytes\n")
            for r in rows:
                f.write("%s\t%s\t%d\t%d\n" % r)
        shutil.copyfile(os.path.join(tree, COPYRIGHT), os.path.join(args.out, "copyright"))

        split_bytes = {"train": 0, "val": 0}
        for _, s, _, n in rows:
            split_bytes[s] += n
        write_source_md(args.out, version, deb, deb_sha, len(docs), n_val, len(text),
                        len(gz.getvalue()), hashlib.sha256(text).hexdigest(), split_bytes)
        print(f"{len(docs)} documents ({len(docs) - n_val} train, {n_val} val), "
              f"{len(text)} bytes of text ({split_bytes['train']} train, {split_bytes['val']} val), "
              f"{len(gz.getvalue())} bytes gzipped -> {args.out}")


def write_source_md(out, version, deb, deb_sha, n_docs, n_val, n_bytes, n_gz, text_sha, split_bytes):
    md = f"""# data/pydoc: the Python 3.11 documentation sources

Tide's shipped text corpus: the reStructuredText sources of the Python 3.11 documentation,
{n_docs} documents, {n_bytes} bytes of UTF-8 text ({n_gz} bytes gzipped).

## Where it came from

- Debian package `{PACKAGE}`, version `{version}` (architecture all), file
  `{os.path.basename(deb)}`, SHA-256 `{deb_sha}`.
- Files: every `*.txt` under `/{SOURCES}/` in that package (the `*.rst.txt` sources
  that Sphinx copies next to the HTML pages), kept byte for byte apart from line ends
  normalized to LF and a final newline added where missing.
- Command (from the repository root; it runs `apt-get download {PACKAGE}` and `dpkg-deb -x`):

      python3 scripts/data/prepare_corpus.py

  or, with a .deb already at hand, `python3 scripts/data/prepare_corpus.py --deb FILE.deb`.

## Files

- `pydoc.txt.gz`: the documents concatenated in path order with nothing between them
  (gzip, level 9, mtime 0). Uncompressed SHA-256: `{text_sha}`.
- `index.tsv`: one row per document: path (without `.txt`), split (`train` or `val`),
  0-based byte offset and byte length in the uncompressed text.
- `copyright`: the Debian copyright file of `{PACKAGE}` {version}, verbatim; it holds the
  licence texts quoted below by reference.

## Split

Documents are ordered by the SHA-256 of their path; the first {n_val} ({VAL_FRACTION:.0%}) are the
validation split, the other {n_docs - n_val} the training split. Bytes: train {split_bytes['train']},
val {split_bytes['val']}. `tide.data.corpus("pydoc", {{split = "train"}})` returns the train
documents concatenated in path order (likewise `"val"`).

## Licence

The Python documentation is distributed under the PSF License Agreement for Python (the
"Python Software Foundation License Version 2"), as stated in the documentation's own
`license` page (included in the corpus as the document `license.rst`) and in the Debian
`copyright` file copied here. Copyright (c) 2001-2023 Python Software Foundation; all rights
reserved. Code examples in the documentation are also available under the Zero-Clause BSD
licence, as the `license` page explains. Tide redistributes the text unmodified (apart from
line ends) for use as training and evaluation data; the PSF licence terms, including the
copyright notice, travel with it in `copyright`.
"""
    open(os.path.join(out, "SOURCE.md"), "w", encoding="utf-8").write(md)


if __name__ == "__main__":
    main()

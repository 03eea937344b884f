#!/usr/bin/env python3
"""Split inputs into shards and merge the shards' outputs back, byte for byte.

The Snakefile calls this script; it works on its own too:

  shards.py split-vcf IN.vcf[.gz] OUT_0.vcf ... OUT_{N-1}.vcf
  shards.py merge-vcf MERGED.vcf SCORED_0.vcf ... SCORED_{N-1}.vcf
  shards.py regions chr:start-end N
  shards.py merge-tsv --region chr:start-end --strand +|- [--shard-region R_0 ...] MERGED.tsv SHARD_0.tsv ...

Why the merge equals one `metaspliceai score` run over the whole file: `score` writes every input
line in order, changing only the INFO field of scored records, and its header (the input's header
plus SpliceAI's INFO line and the `##metaspliceai_*` provenance lines) does not depend on the input
file's name or its records. So each shard gets the input's header and a contiguous run of its
records; the merge writes the header once and the shards' records in shard order. The merge checks
that every shard wrote the same header (same model files, reference, annotation and parameters),
so shards scored with different settings or weights are never mixed.

Why the merge equals one `metaspliceai predict --region` run over the whole region: the numbers at a
position depend only on the bases within context/2 of it, which `predict --region` reads from the
FASTA whatever the shard, and TSV rows are written in position order (descending on '-'). Only the
`name` column differs: `predict` names region rows `chrom:start-end`, the shard's own region. The
merge renames each shard's rows to the whole region (keeping the contig name that `predict`
resolved, e.g. `chr10` for `10`), writes the header line once, and puts the shards in position
order (reversed on '-').

Every file is handled as bytes: no re-encoding, line endings kept as they are.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
from itertools import zip_longest
from typing import BinaryIO, Iterable, List, Optional, Sequence, Tuple


def _open_input(path: str) -> BinaryIO:
    """A VCF as bytes: plain, gzip or bgzip (bgzip is multi-member gzip)."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _write_atomically(path: str, chunks: Iterable[bytes]) -> None:
    """Writes to PATH.tmp, then renames: a killed job never leaves a half-written output."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    os.replace(tmp, path)


def _is_columns_line(line: bytes) -> bool:
    return line.startswith(b"#") and not line.startswith(b"##")


def read_vcf(path: str) -> Tuple[List[bytes], List[bytes]]:
    """The header (## lines and the #CHROM line) and the body lines after it, with their line ends."""
    with _open_input(path) as f:
        lines = f.readlines()
    for i, line in enumerate(lines):
        if _is_columns_line(line):
            return lines[: i + 1], lines[i + 1 :]
    raise SystemExit(f"{path}: no #CHROM header line (is this a VCF file?)")


def _is_record(line: bytes) -> bool:
    """A line `score` reads as a record (malformed ones included): not blank, not a # line."""
    return line.strip() != b"" and not line.startswith(b"#")


def split_body(body: Sequence[bytes], parts: int) -> List[List[bytes]]:
    """Contiguous runs of BODY with record counts as even as possible (earlier shards get the extra
    ones). Blank and # lines go with the records around them, so concatenating the runs gives BODY."""
    records = sum(1 for line in body if _is_record(line))
    quotas = [records // parts + (1 if i < records % parts else 0) for i in range(parts)]
    shards: List[List[bytes]] = [[] for _ in range(parts)]
    shard, taken = 0, 0
    for line in body:
        if _is_record(line):
            while shard < parts - 1 and taken >= quotas[shard]:
                shard, taken = shard + 1, 0
            taken += 1
        shards[shard].append(line)
    return shards


def split_vcf(path: str, outputs: Sequence[str]) -> None:
    header, body = read_vcf(path)
    for out, lines in zip(outputs, split_body(body, len(outputs))):
        _write_atomically(out, [*header, *lines])


def merge_vcf(output: str, shards: Sequence[str]) -> None:
    first: Optional[List[bytes]] = None
    bodies: List[List[bytes]] = []
    for path in shards:
        header, body = read_vcf(path)
        if first is None:
            first = header
        elif header != first:
            diff = next((a, b) for a, b in zip_longest(first, header, fillvalue=b"") if a != b)
            raise SystemExit(
                f"{path}: its header differs from {shards[0]}'s, so the shards were not scored alike "
                f"(other model files, reference, annotation or options?):\n  {shards[0]}: {diff[0]!r}\n  {path}: {diff[1]!r}\n"
                "rerun the shards with one configuration (snakemake --forcerun score_shard)"
            )
        bodies.append(body)
    _write_atomically(output, [*(first or []), *(line for body in bodies for line in body)])


_REGION = re.compile(r"^(?P<chrom>.+):(?P<start>[\d,_]+)-(?P<end>[\d,_]+)$")


def parse_region(text: str) -> Tuple[str, int, int]:
    m = _REGION.match(text.strip())
    if not m:
        raise SystemExit(f'region "{text}": write it as chrom:start-end, 1-based inclusive (e.g. chr10:92901-95500)')
    start, end = (int(m.group(k).replace(",", "").replace("_", "")) for k in ("start", "end"))
    if start < 1 or end < start:
        raise SystemExit(f'region "{text}": positions are 1-based and start <= end')
    return m.group("chrom"), start, end


def split_region(text: str, parts: int) -> List[str]:
    """PARTS contiguous sub-regions of near-equal length (fewer when the region is shorter)."""
    chrom, start, end = parse_region(text)
    length = end - start + 1
    parts = max(1, min(parts, length))
    out, at = [], start
    for i in range(parts):
        size = length // parts + (1 if i < length % parts else 0)
        out.append(f"{chrom}:{at}-{at + size - 1}")
        at += size
    return out


def merge_tsv(output: str, region: str, strand: str, shards: Sequence[str], shard_regions: Sequence[str]) -> None:
    """Merges `predict --format tsv` outputs of SHARD_REGIONS (in position order) into the output of
    one run over REGION."""
    if len(shards) != len(shard_regions):
        raise SystemExit(f"merge-tsv: {len(shards)} shard file(s) but {len(shard_regions)} shard region(s)")
    _, start, end = parse_region(region)
    whole = f":{start}-{end}".encode()
    header: Optional[bytes] = None
    pieces: List[List[bytes]] = []
    for path, sub in zip(shards, shard_regions):
        _, s, e = parse_region(sub)
        suffix = f":{s}-{e}".encode()
        with open(path, "rb") as f:
            lines = f.readlines()
        if not lines:
            raise SystemExit(f"{path}: empty (did predict fail?)")
        if header is None:
            header = lines[0]
        elif lines[0] != header:
            raise SystemExit(f"{path}: its header line differs from {shards[0]}'s: {lines[0]!r} != {header!r}")
        rows = []
        for number, line in enumerate(lines[1:], start=2):
            name, tab, rest = line.partition(b"\t")
            if not tab or not name.endswith(suffix):
                raise SystemExit(f"{path}:{number}: expected a row named <contig>{suffix.decode()} (predict --region --format tsv), got {line[:80]!r}")
            rows.append(name[: -len(suffix)] + whole + tab + rest)
        pieces.append(rows)
    if strand == "-":
        pieces.reverse()  # on '-' rows run 3'->5' in genome coordinates: the last shard comes first
    _write_atomically(output, [header or b"", *(row for rows in pieces for row in rows)])


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("split-vcf", help="split a VCF into shards by record count, header in each")
    p.add_argument("input")
    p.add_argument("outputs", nargs="+")
    p = sub.add_parser("merge-vcf", help="merge scored shards: header once, records in shard order")
    p.add_argument("output")
    p.add_argument("shards", nargs="+")
    p = sub.add_parser("regions", help="print the sub-regions of a region, one a line")
    p.add_argument("region")
    p.add_argument("parts", type=int)
    p = sub.add_parser("merge-tsv", help="merge predict TSV shards of one region")
    p.add_argument("--region", required=True, help="the whole region")
    p.add_argument("--strand", default="+", choices=["+", "-"])
    p.add_argument("--shard-region", action="append", dest="shard_regions", help="a shard's region, once per shard in position order (default: --region split evenly)")
    p.add_argument("output")
    p.add_argument("shards", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "split-vcf":
        split_vcf(args.input, args.outputs)
    elif args.command == "merge-vcf":
        merge_vcf(args.output, args.shards)
    elif args.command == "regions":
        print("\n".join(split_region(args.region, args.parts)))
    else:
        regions = args.shard_regions or split_region(args.region, len(args.shards))
        merge_tsv(args.output, args.region, args.strand, args.shards, regions)
    return 0


if __name__ == "__main__":
    sys.exit(main())

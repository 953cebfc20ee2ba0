"""Convert an official NAS-Bench-201 / NATS-Bench topology file to the compact table.

    python scripts/nb201_convert.py NATS-tss-v1_0-3ffb9-simple data/nb201.csv.gz

Then run with benchmark.path=data/nb201.csv.gz benchmark.sha256=null (your table's checksum
differs from the distributed compact table's).
"""

import argparse
import sys

from common.benchmarks.nb201_official import convert
from common.errors import NasReproError

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("source", help="official file or folder (NATS-tss-... or NAS-Bench-201-...pth)")
    ap.add_argument("out", help="compact table to write, e.g. data/nb201.csv.gz")
    args = ap.parse_args()
    try:
        print(f"wrote {convert(args.source, args.out)}")
    except NasReproError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)

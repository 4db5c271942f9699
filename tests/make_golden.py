"""`make golden`: rewrite tests/golden/ from the current `clean` output, for review in the diff.

The golden files were written by hand (see tests/golden/NOTES.md); regenerate them only
deliberately, and read every changed line before committing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

with tempfile.TemporaryDirectory() as tmp:
    seeds = sorted((ROOT / "sample_data").glob("*.txt"))
    cli = Path(sys.executable).parent / "cleancorpus"
    subprocess.run([str(cli), "clean", "-q", *map(str, seeds), "-o", tmp], check=True)
    for seed in seeds:
        (ROOT / "tests" / "golden" / seed.name).write_bytes((Path(tmp) / seed.name).read_bytes())
        print(f"wrote tests/golden/{seed.name}")
subprocess.run(["git", "diff", "--stat", "--", "tests/golden"], cwd=ROOT, check=False)

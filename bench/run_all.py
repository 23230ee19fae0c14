"""Run every benchmark script under bench/ in turn; each prints its own figures."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        status |= subprocess.run(
            [sys.executable, str(script), *sys.argv[1:]], check=False
        ).returncode
    sys.exit(status)

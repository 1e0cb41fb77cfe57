"""Native writes to fd 2 go to the log; Python's stderr still reaches the terminal."""

from __future__ import annotations

import subprocess
import sys


def test_native_output_is_diverted_and_python_output_is_not(tmp_path):
    log = tmp_path / "native.log"
    script = (
        "import os, sys\nfrom pathlib import Path\n"
        "from kerastui.native_stderr import divert_native_stderr\n"
        f"with divert_native_stderr(Path({str(log)!r})):\n"
        "    os.write(2, b'from C++\\n')\n"
        "    print('from python', file=sys.stderr)\n"
        "os.write(2, b'after\\n')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stderr.splitlines() == ["from python", "after"]
    assert log.read_text() == "from C++\n"

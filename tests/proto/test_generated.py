import subprocess
import sys


def test_generated_code_is_fresh():
    result = subprocess.run([sys.executable, "-m", "pushkin.proto.generate", "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

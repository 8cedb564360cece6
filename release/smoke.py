"""What a user runs after `pip install ringlet`: the wheel alone, no Rust.

    python smoke.py <version> <README.md>
"""

import importlib.metadata
import pathlib
import pydoc
import shutil
import sys

from readme_block import block

version, readme = sys.argv[1], sys.argv[2]
for tool in ("cargo", "rustc", "maturin"):
    assert shutil.which(tool) is None, f"{tool} is on the path: the wheel must not need it"

import ringlet  # noqa: E402

assert ringlet.__version__ == version, (ringlet.__version__, version)
assert importlib.metadata.version("ringlet") == version
package = pathlib.Path(ringlet.__file__).parent
for name in ("py.typed", "_ringlet.pyi"):
    assert (package / name).is_file(), f"the wheel lacks ringlet/{name}"
assert not (pathlib.Path(ringlet.__file__).parents[1] / "bindings-py").exists()

# The README's quick start, as written.
quick_start = block(pathlib.Path(readme).read_text(encoding="utf-8"), "## Python quick start", "python")
exec(compile(quick_start, "README.md (Python quick start)", "exec"), {})

# Docstrings render in help().
doc = pydoc.render_doc(ringlet.Topic.publish, renderer=pydoc.plaintext)
assert "Publishes" in doc, doc
assert "queue for competing" in pydoc.render_doc(ringlet.Queue, renderer=pydoc.plaintext)

# Typed errors, as installed.
bus = ringlet.Bus()
q = bus.queue("q", capacity=1)
q.send(1)
try:
    q.send(2, timeout=0)
except ringlet.Full as e:
    assert isinstance(e, ringlet.RingletError)
else:
    raise AssertionError("a full queue did not raise Full")
print(f"wheel ringlet {ringlet.__version__}: quick start, help() and errors ok")

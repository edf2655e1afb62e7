import sys
from pathlib import Path

# the shared helpers in tests/notebooks.py are imported as a plain module
sys.path.insert(0, str(Path(__file__).resolve().parent))

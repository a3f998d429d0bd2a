"""Console-script entry points that are more than `module:main` (pyproject.toml)."""
import os
import sys

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def installer(argv=None):
    """mimamori-installer: the installer CLI (tools/installer.py of the installer issue, with
    its helper modules beside it; main(argv) -> exit status)."""
    if not os.path.exists(os.path.join(TOOLS, "installer.py")):
        sys.stderr.write("mimamori-installer: the installer CLI (tools/installer.py) is not in "
                         "this version yet\n")
        return 2
    if TOOLS not in sys.path:
        sys.path.insert(0, TOOLS)       # its helpers (installer_board ...) are tools/ modules
    import installer as inst
    return inst.main(argv)

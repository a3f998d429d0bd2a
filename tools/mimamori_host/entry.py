"""Console-script entry points that are more than `module:main` (pyproject.toml)."""
import sys


def installer(argv=None):
    """mimamori-installer: the installer CLI (tools/installer.py, the installer issue)."""
    try:
        import installer as inst
    except ImportError:
        sys.stderr.write("mimamori-installer: the installer CLI (tools/installer.py) is not in "
                         "this version yet\n")
        return 2
    return inst.main(argv)

# The supervision watchers, one watched condition per module (see base.py and ../supervision.py).

# Resident-facing Japanese texts (panel display, centre pane, reports), declared here once and
# imported everywhere. The display's bitmap font is generated from the glyphs these texts use, so
# a text added anywhere else would be missing from the font: add it here.

# ---- walk test (core/walktest.py, operations.py; issue 13) ----------------------------------
WALK_ON = "歩行試験中"                       # the panel while no sensor has triggered yet
WALK_ZONE = "歩行試験 %s %s"                 # 歩行試験 玄関ドア 検知
WALK_ACTIVE = "検知"
WALK_CLEAR = "復旧"
WALK_STARTED = "歩行試験を開始します"
WALK_ENDED = "歩行試験を終了しました (未検知 %d)"
WALK_NOT_INSTALLER = "歩行試験は施工者コードで開始します"
WALK_NOT_DISARMED = "解除してから歩行試験を開始してください"

# ---- installer mode: the USB REPL (mimamori/usbrepl.py; issue 13) ------------------------------
REPL_OPEN = "施工モード: %d分以内にUSBで接続してください"
REPL_NOT_INSTALLER = "施工モードは施工者コードで開始します"

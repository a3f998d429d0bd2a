# Resident-facing Japanese texts (panel display, centre pane, reports), declared here once and
# imported everywhere. The display's bitmap font is generated from the glyphs these texts use, so
# a text added anywhere else would be missing from the font: add it here.

# ---- the panel's OLED (mimamori/screen.py; issue 14, display) ----
SCREEN_OPEN = "開 "              # before an open door or window: 開 玄関ドア
SCREEN_TROUBLE = "故障 "         # before a trouble: 故障 停電
SCREEN_MEMORY = "記憶 "          # before an older alarm-memory line (the latest is on line 1)
SCREEN_MORE = "ほか%d件"         # the details did not fit: how many more
SCREEN_FLAG_TROUBLE = " 故障"    # in the title bar: a trouble is shown below
SCREEN_FLAG_MEMORY = " 異常記憶"  # in the title bar: the alarm memory is set

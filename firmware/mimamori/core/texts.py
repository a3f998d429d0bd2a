# Resident-facing Japanese texts (panel display, centre pane, reports), declared here once and
# imported everywhere. The display's bitmap font is generated from the glyphs these texts use, so
# a text added anywhere else would be missing from the font: add it here.

# --- ライフカード reader (io/cardreader.py, mimamori/cards.py, core/watch/reader.py) ---
READER_TROUBLE = "カードリーダー異常(カードが使えません)"

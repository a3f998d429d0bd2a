# Resident-facing Japanese texts (panel display, centre pane, reports), declared here once and
# imported everywhere. The display's bitmap font is generated from the glyphs these texts use, so
# a text added anywhere else would be missing from the font: add it here.

# Resident-facing Japanese texts (panel display, centre pane, reports), declared here once and
# imported everywhere. The display's bitmap font is generated from the glyphs these texts use, so
# a text added anywhere else would be missing from the font: add it here.

# ---- residents at the panel: keys, cards, roles, lockout, watch-over calls, door chime (issue 14,
# core/keys.py, core/watchover.py, core/chime.py, mimamori/resident.py, mimamori/operations.py)
KEY_CODE = "暗証番号 "                      # + one * per digit typed (the digits never show)
KEY_SELECTED = {"arm_away": "外出セット: 暗証番号と#", "arm_stay": "在宅セット: 暗証番号と#",
                "arm_partial": "部分セット: 暗証番号と#", "disarm": "解除: 暗証番号と#",
                "reset": "異常リセット: 暗証番号と#", "self_check": "点検: 暗証番号と#"}
KEY_FUNCTION = "機能: 1#みつめて 2#チャイム 3#リセット 4#点検"
KEY_UNKNOWN_FUNCTION = "その機能はありません"
WRONG_CODE = "暗証番号またはカードが違います"
UNKNOWN_CARD = "登録されていないカードです"
REVOKED_CARD = "無効にされたカードです"
LOCKED = "ロック中です あと%d分%02d秒"       # minutes, seconds left of the lockout
NOT_ALLOWED = "この暗証番号では操作できません"
INSTALLER_ARMED = "セット中は施工モードに入れません"
CARD_NEEDS_CODE = "カードを確認しました 暗証番号と#"
CARD_CODE_MISMATCH = "カードと暗証番号の持ち主が違います"
PANEL_PANIC = "操作パネル 非常キー"          # zone name of a 120 from the panel's key
PANEL_MEDICAL = "操作パネル 救急キー"        # zone name of a 100 from the panel's key
WATCH_STARTED = "みつめてコール開始 %d分"
WATCH_RUNNING = "みつめてコール中 あと%d分"
WATCH_WARN = "みつめてコール: ボタンを押してください あと%d秒"
WATCH_ENDED = "みつめてコールを終了しました"
WATCH_REPORTED = "みつめてコール: 通報しました"
CALL_ASK = "しらせてコール: "                 # + the centre's question
CALL_DEFAULT = "確認ボタンを押してください"
CALL_ANSWERED = "確認しました"
CHIME_ON = "チャイム 入"
CHIME_OFF = "チャイム 切"

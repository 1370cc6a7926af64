"""What a reader sees: display text in both languages, charts, fonts, the workbook and CSV writers
and the HTML reports."""

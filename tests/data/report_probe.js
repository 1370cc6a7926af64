function probe(win, doc) {
  var out = {page: doc.documentElement.scrollWidth, viewport: win.innerWidth, tables: [], cells: []};
  doc.querySelectorAll("table").forEach(function(table, i){
    var column = doc.body.getBoundingClientRect();
    var style = win.getComputedStyle(doc.body);
    var right = column.right - parseFloat(style.paddingRight);
    var box = table.getBoundingClientRect();
    if (box.right > right + 0.5)
      out.tables.push({index: i, right: box.right, column: right,
                       section: (table.closest("section")||{}).id,
                       head: table.querySelector("tr").innerText.slice(0, 80)});
  });
  doc.querySelectorAll("th, td").forEach(function(cell){
    var size = parseFloat(win.getComputedStyle(cell).fontSize);
    var text = cell.innerText.trim();
    if (cell.scrollWidth > cell.clientWidth + 1)
      out.cells.push({kind: "overflow", text: text.slice(0, 40)});
    else if (text.length >= 3 && cell.clientWidth < 2.6 * size)
      out.cells.push({kind: "narrow", text: text.slice(0, 40), width: cell.clientWidth});
  });
  return out;
}

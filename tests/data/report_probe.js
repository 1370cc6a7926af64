function probe(win, doc) {
  // Tables wider than the text column that do not scroll inside a box of their own (a table
  // may be wider only inside an overflow-x: auto/scroll container no wider than the column),
  // cells whose text spills out, cells squeezed to about one character a line.
  var out = {page: doc.documentElement.scrollWidth, viewport: win.innerWidth, tables: [],
             scrolling: [], cells: []};
  var column = doc.body.getBoundingClientRect();
  var right = column.right - parseFloat(win.getComputedStyle(doc.body).paddingRight);
  doc.querySelectorAll("table").forEach(function(table, i){
    var box = table.getBoundingClientRect();
    var section = (table.closest("section")||{}).id;
    if (box.right <= right + 0.5) return;
    var scroller = table.parentElement;
    while (scroller && scroller !== doc.body &&
           ["auto", "scroll"].indexOf(win.getComputedStyle(scroller).overflowX) < 0)
      scroller = scroller.parentElement;
    var own = scroller && scroller !== doc.body ? scroller.getBoundingClientRect() : null;
    if (own && own.right <= right + 0.5 && scroller.scrollWidth > scroller.clientWidth)
      out.scrolling.push({index: i, section: section});
    else
      out.tables.push({index: i, right: box.right, column: right, section: section,
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

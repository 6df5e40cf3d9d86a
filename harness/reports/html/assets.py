"""The report's only style and script, inline. The script sorts and filters tables; it never
reads skill text into HTML (textContent only)."""

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f8fa}
header{background:#1d2733;color:#fff;padding:18px 28px}header h1{margin:0 0 6px;font-size:20px}
header p{margin:2px 0;color:#c9d3dd}main{padding:12px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #d8dee4;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e4e8ec;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f6;position:sticky;top:0}th[data-sort]{cursor:pointer}th[data-sort]:after{content:" \\2195";color:#8a96a3}
td.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b42318}.good{color:#067647}
.flag{display:inline-block;border-radius:3px;padding:0 5px;margin:0 2px;font-size:11px;background:#eef2f6}
.sev-high{background:#fde2e1}.sev-medium{background:#fdf0d5}.sev-error{background:#fde2e1}.sev-warning{background:#fdf0d5}
img{max-width:100%;height:auto}details{margin:4px 0}code{font-size:12px}input{padding:4px 8px;width:320px;margin:4px 0 8px}
.muted{color:#5b6673}
"""

JS = """
(function(){
  function cellValue(row, i, numeric){
    var t = row.cells[i] ? row.cells[i].textContent.trim() : "";
    if(!numeric) return t.toLowerCase();
    var v = parseFloat(t); return isNaN(v) ? -Infinity : v;
  }
  document.querySelectorAll("table.sortable").forEach(function(table){
    table.querySelectorAll("th[data-sort]").forEach(function(th, i){
      th.addEventListener("click", function(){
        var numeric = th.getAttribute("data-sort") === "num";
        var asc = th.getAttribute("data-dir") !== "asc";
        table.querySelectorAll("th[data-sort]").forEach(function(o){ o.removeAttribute("data-dir"); });
        th.setAttribute("data-dir", asc ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(a, b){
          var x = cellValue(a, i, numeric), y = cellValue(b, i, numeric);
          if(x < y) return asc ? -1 : 1; if(x > y) return asc ? 1 : -1; return 0;
        });
        rows.forEach(function(r){ body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function(input){
    var table = document.getElementById(input.getAttribute("data-filter"));
    input.addEventListener("input", function(){
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function(r){
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
  });
})();
"""

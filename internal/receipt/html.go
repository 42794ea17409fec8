package receipt

import (
	"bytes"
	"html/template"
	"io"
)

// Stylesheet styles the receipt markup. WriteHTML inlines it; a page that
// embeds WriteHTMLFragment includes it once. Every rule is scoped under
// .receipt, so it cannot restyle the page around the fragment. The layout
// is a single column that fits a phone (quantity and unit price fold under
// the description on narrow screens) and prints on A4.
const Stylesheet = `.receipt{--ink:#1b1d21;--muted:#5c636e;--rule:#d5d9de;box-sizing:border-box;max-width:42em;margin:0 auto;padding:1.5em 1em 2em;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:#fff}
.receipt *{box-sizing:border-box}
.receipt p{margin:0}
.receipt-head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:.25em 1em;padding-bottom:.5em;border-bottom:2px solid var(--ink)}
.receipt h1{margin:0;font-size:1.6em;line-height:1.2}
.receipt-code{font-weight:600;letter-spacing:.04em;font-variant-numeric:tabular-nums}
.receipt h2{margin:1.5em 0 .5em;padding-bottom:.25em;font-size:1em;border-bottom:1px solid var(--rule)}
.receipt-seller{margin:1em 0}
.receipt-seller-name{font-weight:600;font-size:1.05em}
.receipt-multiline{white-space:pre-line}
.receipt dl{margin:0}
.receipt dl>div{display:grid;grid-template-columns:10em 1fr;gap:0 1em;padding:.15em 0}
.receipt dt{color:var(--muted)}
.receipt dd{margin:0;overflow-wrap:anywhere}
.receipt table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
.receipt th,.receipt td{padding:.4em .75em .4em 0;text-align:left;vertical-align:top;overflow-wrap:anywhere}
.receipt thead th{font-size:.8em;font-weight:600;color:var(--muted);white-space:nowrap;border-bottom:1px solid var(--ink)}
.receipt-lines tbody td{border-bottom:1px solid var(--rule)}
.receipt .receipt-col-qty,.receipt .receipt-col-unit{white-space:nowrap}
.receipt .receipt-num{padding-right:0;text-align:right;white-space:nowrap}
.receipt-line-detail{display:none;color:var(--muted);font-size:.85em}
.receipt .receipt-totals{width:auto;min-width:55%;margin:.5em 0 0 auto}
.receipt-totals th{padding-right:2em;font-weight:normal}
.receipt-total th,.receipt-total td{font-weight:700;font-size:1.1em;border-top:2px solid var(--ink)}
.receipt-note{margin-top:.5em;text-align:right}
@media (max-width:32rem){.receipt-col-qty,.receipt-col-unit{display:none}.receipt-line-detail{display:block}.receipt dl>div{grid-template-columns:8.5em 1fr}.receipt .receipt-totals{width:100%}}
@media print{@page{size:A4;margin:15mm}.receipt{max-width:none;padding:0;font-size:10pt}.receipt th,.receipt td{padding-top:.25em;padding-bottom:.25em}.receipt h2{margin-top:1.2em}.receipt tr,.receipt dl>div{break-inside:avoid}}
`

// templates holds "article", the receipt itself, and "document", the
// standalone page around it. html/template escapes every value for its
// context, which matters here: seller, site and line texts come from
// operators and must never become markup in a driver's browser.
var templates = template.Must(template.New("receipt").Funcs(template.FuncMap{
	"stylesheet": func() template.CSS { return template.CSS(Stylesheet) },
}).Parse(`
{{- define "field" -}}
<div><dt>{{.Label}}</dt><dd{{if not .DateTime}} class="receipt-multiline"{{end}}>
{{- if .DateTime}}<time datetime="{{.DateTime}}">{{.Value}}</time>{{else}}{{.Value}}{{end -}}
</dd></div>
{{- end -}}

{{- define "article" -}}
<article class="receipt" aria-label="{{.Title}} {{.Code}}">
<header class="receipt-head">
<h1>{{.Title}}</h1>
<p class="receipt-code">{{.Code}}</p>
</header>
<section class="receipt-seller">
<p class="receipt-seller-name">{{.Seller.Name}}</p>
{{with .Seller.LegalName}}<p>{{.}}</p>
{{end}}{{with .Seller.TaxID}}<p>{{.}}</p>
{{end}}{{with .Seller.Address}}<p class="receipt-multiline">{{.}}</p>
{{end -}}
</section>
<dl>
{{template "field" .Issued}}
<div><dt>Receipt code</dt><dd>{{.Code}}</dd></div>
</dl>
<section>
<h2>Charging session</h2>
<dl>
{{range .Session}}{{template "field" .}}
{{end -}}
</dl>
</section>
<section>
<h2>Charges</h2>
<table class="receipt-lines">
<thead><tr><th scope="col">Description</th><th scope="col" class="receipt-col-qty">Quantity</th><th scope="col" class="receipt-col-unit">Unit price</th><th scope="col" class="receipt-num">Amount</th></tr></thead>
<tbody>
{{range .Lines}}<tr><td>{{.Description}}{{if .TaxFree}}` + taxFreeMark + `{{end}}{{if or .Quantity .UnitPrice}}<span class="receipt-line-detail">{{.Quantity}}{{if and .Quantity .UnitPrice}} × {{end}}{{.UnitPrice}}</span>{{end}}</td><td class="receipt-col-qty">{{.Quantity}}</td><td class="receipt-col-unit">{{.UnitPrice}}</td><td class="receipt-num">{{.Amount}}</td></tr>
{{end -}}
</tbody>
</table>
<table class="receipt-totals">
{{range .Totals}}<tr{{if .Strong}} class="receipt-total"{{end}}><th scope="row">{{.Label}}</th><td class="receipt-num">{{.Amount}}</td></tr>
{{end -}}
</table>
{{with .TaxNote}}<p class="receipt-note">{{.}}</p>
{{end}}{{with .TaxFreeNote}}<p class="receipt-note">{{.}}</p>
{{end -}}
</section>
{{with .Payment}}<section>
<h2>Payment</h2>
<dl>
{{range .}}{{template "field" .}}
{{end -}}
</dl>
</section>
{{end -}}
</article>
{{end -}}

{{- define "document" -}}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.Title}} {{.Code}}{{with .Seller.Name}} — {{.}}{{end}}</title>
<style>
body{margin:0;background:#fff}
{{stylesheet}}</style>
</head>
<body>
{{template "article" .}}</body>
</html>
{{end}}`))

// WriteHTML writes r as a complete, standalone HTML5 document: inline
// styles only, no scripts and nothing fetched (a Content-Security-Policy
// says so), readable on a phone and printable on A4. It is safe to save,
// attach to an email or serve as is.
func WriteHTML(w io.Writer, r Receipt) error {
	return execute(w, "document", r)
}

// WriteHTMLFragment writes r as a single <article class="receipt">
// element, to embed in a page that includes Stylesheet.
func WriteHTMLFragment(w io.Writer, r Receipt) error {
	return execute(w, "article", r)
}

// execute renders into a buffer first, so that a failure writes nothing
// rather than half a receipt.
func execute(w io.Writer, name string, r Receipt) error {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, r.view()); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

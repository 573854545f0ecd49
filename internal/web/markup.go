package web

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// newMarkdown is the renderer for comments typed in the web forms: CommonMark with the
// GitHub extensions and hard line breaks (people press Enter and expect a new line). Raw
// HTML stays off.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
}

// markdownHTML renders a comment typed in a form. A '<' is written as an entity first,
// so that whatever looks like HTML is shown as the text the person typed rather than
// dropped (goldmark omits raw HTML); the result is sanitised again by the ticket
// service when stored, and once more when shown.
func (s *Server) markdownHTML(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "<", "&lt;")
	var buf bytes.Buffer
	if err := s.md.Convert([]byte(text), &buf); err != nil {
		return ""
	}
	return buf.String()
}

// commentHTML is a stored comment's markup made safe to insert into a page: sanitised
// with the UGC policy on the way out too, so a row written by an older version or by a
// bug elsewhere still cannot carry script.
func (s *Server) commentHTML(h string) template.HTML {
	return template.HTML(s.ugc.Sanitize(h)) // #nosec G203 -- sanitised just now
}

package files

import (
	"bytes"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"tandem/internal/errs"
)

// MaxNameBytes is the longest file name kept; longer names are shortened, keeping
// their extension.
const MaxNameBytes = 255

// CleanName makes a client's file name safe to store and to show: only its last path
// element ("../../etc/passwd" is "passwd"), without control or format characters,
// without leading dots, at most MaxNameBytes bytes. A name with nothing left is refused.
func CleanName(name string) (string, error) {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimSpace(name)
	if len(name) > MaxNameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || !utf8.ValidString(ext) {
			ext = ""
		}
		keep := MaxNameBytes - len(ext)
		for keep > 0 && !utf8.RuneStart(name[keep]) {
			keep--
		}
		name = name[:keep] + ext
	}
	if name == "" {
		return "", errs.Invalidf("filename", "BlankValue", "a file name is required (?filename=NAME)")
	}
	return name, nil
}

// Sniff decides a file's content type from its first bytes (never from what the
// client said). SVG, which the standard sniffer calls XML or text, is named as such so
// that it is never served inline.
func Sniff(head []byte, name string) string {
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 && !strings.HasPrefix(ct, "text/") {
		ct = ct[:i]
	}
	if strings.HasPrefix(ct, "text/xml") || strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "text/html") {
		if bytes.Contains(bytes.ToLower(head), []byte("<svg")) {
			return "image/svg+xml"
		}
	}
	return ct
}

// inlineImages are the raster image types shown inline (within MaxPixels); every
// other file is a download.
var inlineImages = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

func isImage(ct string) bool { return inlineImages[ct] }

// activeTypes are served as application/octet-stream: a browser could run them.
var activeTypes = []string{"text/html", "image/svg+xml", "text/xml", "application/xml", "application/xhtml", "text/javascript", "application/javascript", "application/pdf"}

func thumbName(name string) string {
	base := strings.TrimSuffix(name, path.Ext(name))
	return base + "_thumb.png"
}

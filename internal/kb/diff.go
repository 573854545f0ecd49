package kb

import (
	"html"
	"regexp"
	"strings"
)

// DiffLine is one line of a diff between two versions of an article's text.
type DiffLine struct {
	Op   byte // ' ' kept, '-' removed, '+' added
	Text string
}

var (
	blockEnd = regexp.MustCompile(`(?i)</(p|li|h[1-6]|pre|blockquote|tr|div)>|<br\s*/?>`)
	anyTag   = regexp.MustCompile(`<[^>]*>`)
)

// TextLines turns article HTML into the lines a diff compares: one per paragraph,
// list item or heading, tags removed.
func TextLines(h string) []string {
	h = blockEnd.ReplaceAllString(h, "\n")
	h = html.UnescapeString(anyTag.ReplaceAllString(h, ""))
	var out []string
	for _, l := range strings.Split(h, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// maxDiffLines bounds the quadratic diff; longer texts are compared as removed/added.
const maxDiffLines = 2000

// Diff compares two versions line by line (longest common subsequence).
func Diff(before, after []string) []DiffLine {
	n, m := len(before), len(after)
	if n > maxDiffLines || m > maxDiffLines {
		out := make([]DiffLine, 0, n+m)
		for _, l := range before {
			out = append(out, DiffLine{'-', l})
		}
		for _, l := range after {
			out = append(out, DiffLine{'+', l})
		}
		return out
	}
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if before[i] == after[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case before[i] == after[j]:
			out = append(out, DiffLine{' ', before[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{'-', before[i]})
			i++
		default:
			out = append(out, DiffLine{'+', after[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{'-', before[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{'+', after[j]})
	}
	return out
}

// Package rank is the knowledge base's ranker: BM25F over an article's title (weighted
// 3), body (1) and learned phrasings (the words customers used in solved tickets linked
// to it, 0.5), with light English and French stemming, accent folding, typo tolerance
// for short queries and highlighted snippets. It is pure Go over documents the caller
// loads, so the order is the same on SQLite and PostgreSQL by construction (see
// docs/KNOWLEDGE_BASE.md for why the databases' own ranking was not used). One Index
// serves the help center, the API, deflection and the agent sidebar; callers filter
// with Query.Allow, which is where visibility is applied.
package rank

import (
	"cmp"
	"container/heap"
	"html"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// The fields of a document and their BM25F weights and length normalisation.
const (
	fTitle = iota
	fBody
	fPhrase
	nFields
)

var (
	weight = [nFields]float64{3, 1, 0.5}
	bnorm  = [nFields]float64{0.5, 0.75, 0.75}
)

// k1 is BM25's term-frequency saturation.
const k1 = 1.2

// Doc is one article translation as the ranker sees it: plain text, no markup.
type Doc struct {
	ID     int64
	Locale string
	Title  string
	Body   string
	// Phrasings are learned customer phrasings (first messages of solved tickets
	// linked to the article).
	Phrasings []string
}

type docInfo struct {
	id    int64
	lang  Lang
	flen  [nFields]float64
	title string
	body  string
}

type posting struct {
	doc int32
	tf  [nFields]uint16
}

// Index is an immutable inverted index over a set of documents. It is safe for
// concurrent use.
type Index struct {
	docs  []docInfo
	byID  map[int64]int32
	post  map[string][]posting
	vocab []string // sorted, for prefix and typo expansion
	avg   [nFields]float64
	// scores holds reusable score arrays (*[]float64 of len(docs)).
	scores sync.Pool
}

// Analyzed is a document split into stemmed terms, ready to index. Analysing is most
// of the cost of building an index, so callers that rebuild an index after a few
// documents changed keep the Analyzed of the others (see kb's index cache).
type Analyzed struct {
	info  docInfo
	terms []termCount // compact: a long-lived cache holds thousands of these
}

type termCount struct {
	t  string
	tf [nFields]uint16
}

// Analyze splits a document into its terms.
func Analyze(d Doc) *Analyzed {
	a := &Analyzed{info: docInfo{id: d.ID, lang: LangOf(d.Locale), title: d.Title, body: d.Body}}
	counts := map[string]*[nFields]uint16{}
	add := func(f int, text string) {
		for _, t := range terms(text, a.info.lang) {
			c := counts[t]
			if c == nil {
				c = new([nFields]uint16)
				counts[t] = c
			}
			if c[f] < math.MaxUint16 {
				c[f]++
			}
			a.info.flen[f]++
		}
	}
	add(fTitle, d.Title)
	add(fBody, d.Body)
	for _, p := range d.Phrasings {
		add(fPhrase, p)
	}
	a.terms = make([]termCount, 0, len(counts))
	for t, c := range counts {
		a.terms = append(a.terms, termCount{t, *c})
	}
	return a
}

// Build indexes docs. A document ID appearing twice keeps its first occurrence.
func Build(docs []Doc) *Index {
	list := make([]*Analyzed, len(docs))
	for i, d := range docs {
		list[i] = Analyze(d)
	}
	return BuildAnalyzed(list)
}

// BuildAnalyzed indexes analysed documents.
func BuildAnalyzed(docs []*Analyzed) *Index {
	ix := &Index{byID: make(map[int64]int32, len(docs)), post: map[string][]posting{}}
	var total, have [nFields]float64
	for _, a := range docs {
		if _, dup := ix.byID[a.info.id]; dup {
			continue
		}
		n := int32(len(ix.docs))
		for _, tc := range a.terms {
			ix.post[tc.t] = append(ix.post[tc.t], posting{doc: n, tf: tc.tf})
		}
		for f := range nFields {
			total[f] += a.info.flen[f]
			if a.info.flen[f] > 0 {
				have[f]++
			}
		}
		ix.byID[a.info.id] = n
		ix.docs = append(ix.docs, a.info)
	}
	// A field's average length is over the documents that have it: most articles
	// have no learned phrasings yet, which must not make the others' look long.
	for f := range nFields {
		if have[f] > 0 {
			ix.avg[f] = total[f] / have[f]
		}
		if ix.avg[f] == 0 {
			ix.avg[f] = 1
		}
	}
	size := len(ix.docs)
	ix.scores.New = func() any { s := make([]float64, size); return &s }
	ix.vocab = make([]string, 0, len(ix.post))
	for t := range ix.post {
		ix.vocab = append(ix.vocab, t)
	}
	sort.Strings(ix.vocab)
	return ix
}

// Len returns the number of documents indexed.
func (ix *Index) Len() int { return len(ix.docs) }

// Query is one search.
type Query struct {
	Text string
	// Lang stems the query; use LangOf of the locale searched.
	Lang Lang
	// Allow, when set, keeps only the documents it accepts (visibility and filters).
	Allow func(id int64) bool
	// Exclude drops one document (an article's related articles exclude itself).
	Exclude int64
	// Limit, when positive, returns only the best Limit hits (the total still counts
	// them all): paging needs offset+limit, never the whole ranking sorted.
	Limit int
}

// Hit is a ranked document.
type Hit struct {
	ID    int64
	Score float64
}

// qterm is a query term with its weight (1 for the words typed, less for expansions).
type qterm struct {
	t string
	w float64
}

// maxQueryWords bounds the words of a query that are scored.
const maxQueryWords = 32

// shortQuery is the most words a query may have for typo and prefix expansion.
const shortQuery = 4

// expand turns the query text into weighted terms: the stemmed words, plus, for short
// queries, vocabulary terms one or two edits away from a word the index does not know,
// and completions of the last word (the user may still be typing).
func (ix *Index) expand(text string, lang Lang) []qterm {
	toks := tokenize(text, maxQueryWords*4)
	var words []string
	for _, t := range toks {
		if w, ok := term(t.word, lang); ok && !slices.Contains(words, w) {
			words = append(words, w)
		}
		if len(words) == maxQueryWords {
			break
		}
	}
	out := make([]qterm, 0, len(words))
	seen := map[string]bool{}
	addT := func(t string, w float64) {
		if !seen[t] {
			seen[t] = true
			out = append(out, qterm{t, w})
		}
	}
	for _, w := range words {
		addT(w, 1)
	}
	if len(words) == 0 || len(words) > shortQuery {
		return out
	}
	for i, w := range words {
		known := len(ix.post[w]) > 0
		if !known && len(w) >= 4 {
			maxD := 1
			if len(w) >= 8 {
				maxD = 2
			}
			for _, v := range ix.vocab {
				if abs(len(v)-len(w)) > maxD || v[0] != w[0] && maxD == 1 {
					continue
				}
				if d := editDistance(w, v, maxD); d <= maxD {
					addT(v, 0.8/float64(d))
				}
			}
		}
		if i == len(words)-1 && len(w) >= 3 {
			// Completions of the last word, the most frequent first.
			lo := sort.SearchStrings(ix.vocab, w)
			var comps []string
			for j := lo; j < len(ix.vocab) && strings.HasPrefix(ix.vocab[j], w); j++ {
				if ix.vocab[j] != w {
					comps = append(comps, ix.vocab[j])
				}
			}
			slices.SortStableFunc(comps, func(a, b string) int { return cmp.Compare(len(ix.post[b]), len(ix.post[a])) })
			for _, c := range comps[:min(len(comps), 5)] {
				addT(c, 0.5)
			}
		}
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance of a and b, or maxD+1 once it exceeds maxD.
func editDistance(a, b string, maxD int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			best = min(best, cur[j])
		}
		if best > maxD {
			return maxD + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Search ranks the documents matching q, best first (ties by ID), and returns them (the
// best q.Limit when it is set) with the number of documents that matched.
func (ix *Index) Search(q Query) ([]Hit, int) {
	qt := ix.expand(q.Text, q.Lang)
	if len(qt) == 0 || len(ix.docs) == 0 {
		return nil, 0
	}
	n := float64(len(ix.docs))
	// The score array is as long as the index: reused, so a query allocates little.
	scores := ix.scores.Get().(*[]float64)
	defer func() {
		clear(*scores)
		ix.scores.Put(scores)
	}()
	sc := *scores
	var touched []int32
	for _, t := range qt {
		list := ix.post[t.t]
		if len(list) == 0 {
			continue
		}
		df := float64(len(list))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range list {
			d := &ix.docs[p.doc]
			var tf float64
			for f := range nFields {
				if p.tf[f] > 0 {
					tf += weight[f] * float64(p.tf[f]) / (1 - bnorm[f] + bnorm[f]*d.flen[f]/ix.avg[f])
				}
			}
			if sc[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			sc[p.doc] += t.w * idf * tf / (k1 + tf)
		}
	}
	better := func(a, b Hit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	}
	// The best Limit hits, kept in a small heap whose root is the worst of them.
	var top hitHeap
	top.less = func(a, b Hit) bool { return better(a, b) > 0 }
	total := 0
	for _, doc := range touched {
		id := ix.docs[doc].id
		if id == q.Exclude || q.Allow != nil && !q.Allow(id) {
			continue
		}
		total++
		h := Hit{ID: id, Score: sc[doc]}
		if q.Limit <= 0 || len(top.h) < q.Limit {
			heap.Push(&top, h)
		} else if better(h, top.h[0]) < 0 {
			top.h[0] = h
			heap.Fix(&top, 0)
		}
	}
	hits := top.h
	slices.SortFunc(hits, better)
	return hits, total
}

// hitHeap is a heap of hits ordered by less.
type hitHeap struct {
	h    []Hit
	less func(a, b Hit) bool
}

func (h *hitHeap) Len() int           { return len(h.h) }
func (h *hitHeap) Less(i, j int) bool { return h.less(h.h[i], h.h[j]) }
func (h *hitHeap) Swap(i, j int)      { h.h[i], h.h[j] = h.h[j], h.h[i] }
func (h *hitHeap) Push(x any)         { h.h = append(h.h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	x := h.h[len(h.h)-1]
	h.h = h.h[:len(h.h)-1]
	return x
}

// Terms are a query's terms, for Snippet.
type Terms map[string]bool

// TermsOf expands a query as Search does, for highlighting.
func (ix *Index) TermsOf(text string, lang Lang) Terms {
	want := Terms{}
	for _, t := range ix.expand(text, lang) {
		want[t.t] = true
	}
	return want
}

// snippetWords is the length of a snippet, in words.
const snippetWords = 30

// Snippet returns an HTML-escaped excerpt of the document's body around the query's
// terms (TermsOf), each matched word wrapped in <em>. It is "" for an unknown document.
func (ix *Index) Snippet(id int64, want Terms) string {
	n, ok := ix.byID[id]
	if !ok {
		return ""
	}
	d := &ix.docs[n]
	body := d.body
	toks := tokenize(body, maxTokens)
	if len(toks) == 0 {
		return html.EscapeString(d.title)
	}
	hit := make([]bool, len(toks))
	for i, t := range toks {
		if w, ok := term(t.word, d.lang); ok && want[w] {
			hit[i] = true
		}
	}
	// The window of snippetWords tokens with the most hits.
	best, bestAt, cur := -1, 0, 0
	for i := range toks {
		if hit[i] {
			cur++
		}
		if i >= snippetWords && hit[i-snippetWords] {
			cur--
		}
		if start := max(0, i-snippetWords+1); cur > best {
			best, bestAt = cur, start
		}
	}
	end := min(len(toks), bestAt+snippetWords)
	var b strings.Builder
	if bestAt > 0 {
		b.WriteString("… ")
	}
	pos := toks[bestAt].start
	for i := bestAt; i < end; i++ {
		t := toks[i]
		b.WriteString(html.EscapeString(body[pos:t.start]))
		if hit[i] {
			b.WriteString("<em>" + html.EscapeString(body[t.start:t.end]) + "</em>")
		} else {
			b.WriteString(html.EscapeString(body[t.start:t.end]))
		}
		pos = t.end
	}
	if end < len(toks) {
		b.WriteString(" …")
	}
	return strings.TrimSpace(b.String())
}

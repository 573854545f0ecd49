package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/rules"
	"tandem/internal/store"
)

// rulesAPI serves triggers, views and macros. It holds its dependencies explicitly and
// borrows the server's request plumbing (auth levels, decoding, rendering).
type rulesAPI struct {
	s   *Server
	svc *rules.Service
}

func (a *rulesAPI) routes(mux *routeMux) {
	s := a.s
	mux.HandleFunc("GET /api/v2/triggers", s.h(agent, a.listTriggers(false)))
	mux.HandleFunc("GET /api/v2/triggers/active", s.h(agent, a.listTriggers(true)))
	mux.HandleFunc("GET /api/v2/triggers/search", s.h(agent, a.searchTriggers))
	mux.HandleFunc("GET /api/v2/triggers/definitions", s.h(agent, a.triggerDefinitions))
	mux.HandleFunc("POST /api/v2/triggers", s.h(admin, a.createTrigger))
	mux.HandleFunc("PUT /api/v2/triggers/update_many", s.h(admin, a.updateManyTriggers))
	mux.HandleFunc("PUT /api/v2/triggers/reorder", s.h(admin, a.reorderTriggers))
	mux.HandleFunc("DELETE /api/v2/triggers/destroy_many", s.h(admin, deleteMany(a.deleteTriggers)))
	mux.HandleFunc("GET /api/v2/triggers/{id}", s.h(agent, a.showTrigger))
	mux.HandleFunc("PUT /api/v2/triggers/{id}", s.h(admin, a.updateTrigger))
	mux.HandleFunc("DELETE /api/v2/triggers/{id}", s.h(admin, deleteOne(a.deleteTriggers)))

	mux.HandleFunc("GET /api/v2/views", s.h(agent, a.listViews(false)))
	mux.HandleFunc("GET /api/v2/views/active", s.h(agent, a.listViews(true)))
	mux.HandleFunc("GET /api/v2/views/compact", s.h(agent, a.compactViews))
	mux.HandleFunc("GET /api/v2/views/count", s.h(agent, a.countViews))
	mux.HandleFunc("GET /api/v2/views/search", s.h(agent, a.searchViews))
	mux.HandleFunc("GET /api/v2/views/show_many", s.h(agent, a.showManyViews))
	mux.HandleFunc("GET /api/v2/views/count_many", s.h(agent, a.countManyViews))
	mux.HandleFunc("POST /api/v2/views", s.h(agent, a.createView))
	mux.HandleFunc("POST /api/v2/views/preview", s.h(agent, a.previewView))
	mux.HandleFunc("POST /api/v2/views/preview/count", s.h(agent, a.previewViewCount))
	mux.HandleFunc("PUT /api/v2/views/update_many", s.h(agent, a.updateManyViews))
	mux.HandleFunc("DELETE /api/v2/views/destroy_many", s.h(agent, deleteMany(a.deleteViewsChecked)))
	mux.HandleFunc("GET /api/v2/views/{id}", s.h(agent, a.showView))
	mux.HandleFunc("PUT /api/v2/views/{id}", s.h(agent, a.updateView))
	mux.HandleFunc("DELETE /api/v2/views/{id}", s.h(agent, deleteOne(a.deleteViewsChecked)))
	mux.HandleFunc("GET /api/v2/views/{id}/execute", s.h(agent, a.executeView))
	mux.HandleFunc("GET /api/v2/views/{id}/tickets", s.h(agent, a.viewTickets))
	mux.HandleFunc("GET /api/v2/views/{id}/count", s.h(agent, a.viewCount))

	mux.HandleFunc("GET /api/v2/macros", s.h(agent, a.listMacros(false)))
	mux.HandleFunc("GET /api/v2/macros/active", s.h(agent, a.listMacros(true)))
	mux.HandleFunc("GET /api/v2/macros/search", s.h(agent, a.searchMacros))
	mux.HandleFunc("POST /api/v2/macros", s.h(agent, a.createMacro))
	mux.HandleFunc("PUT /api/v2/macros/update_many", s.h(agent, a.updateManyMacros))
	mux.HandleFunc("DELETE /api/v2/macros/destroy_many", s.h(agent, deleteMany(a.deleteMacrosChecked)))
	mux.HandleFunc("GET /api/v2/macros/{id}", s.h(agent, a.showMacro))
	mux.HandleFunc("PUT /api/v2/macros/{id}", s.h(agent, a.updateMacro))
	mux.HandleFunc("DELETE /api/v2/macros/{id}", s.h(agent, deleteOne(a.deleteMacrosChecked)))
	mux.HandleFunc("GET /api/v2/macros/{id}/apply", s.h(agent, a.applyMacro))
	mux.HandleFunc("GET /api/v2/tickets/{tid}/macros/{id}/apply", s.h(agent, a.applyMacroToTicket))
}

// ruleIn is the request body of a trigger, view or macro (each reads its keys).
type ruleIn struct {
	Title       optStr          `json:"title"`
	Description optStr          `json:"description"`
	Active      optBool         `json:"active"`
	Position    optID           `json:"position"`
	CategoryID  json.RawMessage `json:"category_id"`
	Conditions  json.RawMessage `json:"conditions"`
	All         json.RawMessage `json:"all"`
	Any         json.RawMessage `json:"any"`
	Actions     json.RawMessage `json:"actions"`
	Restriction json.RawMessage `json:"restriction"`
	Output      json.RawMessage `json:"output"`
}

// present reports whether a raw key was sent at all.
func present(raw json.RawMessage) bool { return len(raw) > 0 }

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// scalarText reads a JSON string, number or boolean as the string rules use; null is "".
func scalarText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || isNull(raw) {
		return "", true
	}
	switch raw[0] {
	case '"':
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	case 't', 'f':
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return "", false
		}
		return strconv.FormatBool(b), true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "", false
		}
		return n.String(), true
	}
	return "", false
}

// parseConditionList reads [{field, operator, value}, ...], naming any bad part.
func parseConditionList(raw json.RawMessage, path string, v *errs.Validation) []rules.Condition {
	out := []rules.Condition{}
	if !present(raw) || isNull(raw) {
		return out
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		v.Bad(path, "must be a list of {field, operator, value} objects")
		return out
	}
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		var c rules.Condition
		var ok bool
		if c.Field, ok = scalarText(it["field"]); !ok {
			v.Bad(p+".field", "must be a string")
		}
		if c.Operator, ok = scalarText(it["operator"]); !ok {
			v.Bad(p+".operator", "must be a string")
		}
		if c.Value, ok = scalarText(it["value"]); !ok {
			v.Bad(p+".value", "must be a string, a number or a boolean")
		}
		out = append(out, c)
	}
	return out
}

// parseConditions reads a rule's conditions: {"conditions": {"all", "any"}} or, as
// Zendesk also accepts, top-level "all"/"any". ok is false when none were sent.
func parseConditions(in *ruleIn, v *errs.Validation) (rules.Conditions, bool) {
	if present(in.All) || present(in.Any) {
		return rules.Conditions{All: parseConditionList(in.All, "conditions.all", v), Any: parseConditionList(in.Any, "conditions.any", v)}, true
	}
	if !present(in.Conditions) {
		return rules.Conditions{}, false
	}
	var obj map[string]json.RawMessage
	if !isNull(in.Conditions) {
		if err := json.Unmarshal(in.Conditions, &obj); err != nil {
			v.Bad("conditions", "must be an object {\"all\": [...], \"any\": [...]}")
			return rules.Conditions{}, true
		}
	}
	return rules.Conditions{All: parseConditionList(obj["all"], "conditions.all", v), Any: parseConditionList(obj["any"], "conditions.any", v)}, true
}

// parseActions reads [{field, value}, ...]; a value is a scalar or a list of scalars.
func parseActions(raw json.RawMessage, v *errs.Validation) []rules.Action {
	out := []rules.Action{}
	if !present(raw) || isNull(raw) {
		return out
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		v.Bad("actions", "must be a list of {field, value} objects")
		return out
	}
	for i, it := range items {
		p := fmt.Sprintf("actions[%d]", i)
		var a rules.Action
		var ok bool
		if a.Field, ok = scalarText(it["field"]); !ok {
			v.Bad(p+".field", "must be a string")
		}
		val := bytes.TrimSpace(it["value"])
		if len(val) > 0 && val[0] == '[' {
			var list []json.RawMessage
			_ = json.Unmarshal(val, &list)
			a.List = true
			for _, x := range list {
				s, ok := scalarText(x)
				if !ok {
					v.Bad(p+".value", "list items must be strings or numbers")
					break
				}
				a.Value = append(a.Value, s)
			}
		} else {
			s, ok := scalarText(val)
			if !ok {
				v.Bad(p+".value", "must be a string, a number, a boolean or a list")
			}
			a.Value = []string{s}
		}
		out = append(out, a)
	}
	return out
}

// parseRestriction reads null or {"type": "User"|"Group", "id": n, "ids": [n...]}.
func parseRestriction(raw json.RawMessage, v *errs.Validation) *rules.Restriction {
	if !present(raw) || isNull(raw) {
		return nil
	}
	var in struct {
		Type string  `json:"type"`
		ID   optID   `json:"id"`
		IDs  []optID `json:"ids"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		v.Bad("restriction", "must be null or {\"type\": \"User\" or \"Group\", \"id\": ...}")
		return nil
	}
	typ := in.Type
	switch strings.ToLower(typ) {
	case "user":
		typ = "User"
	case "group":
		typ = "Group"
	}
	r := &rules.Restriction{Type: typ, ID: in.ID.Value}
	for _, x := range in.IDs {
		r.IDs = append(r.IDs, x.Value)
	}
	return r
}

func conditionsJSON(c rules.Conditions) map[string]any {
	list := func(cs []rules.Condition) []map[string]any {
		out := make([]map[string]any, len(cs))
		for i, c := range cs {
			out[i] = map[string]any{"field": c.Field, "operator": c.Operator, "value": c.Value}
		}
		return out
	}
	return map[string]any{"all": list(c.All), "any": list(c.Any)}
}

func actionsJSON(acts []rules.Action) []map[string]any {
	out := make([]map[string]any, len(acts))
	for i, a := range acts {
		var v any = a.Str()
		if a.List {
			v = append([]string{}, a.Value...)
		}
		out[i] = map[string]any{"field": a.Field, "value": v}
	}
	return out
}

func restrictionJSON(r *rules.Restriction) any {
	if r == nil {
		return nil
	}
	out := map[string]any{"type": r.Type, "id": r.ID}
	if r.Type == "Group" {
		out["ids"] = append([]int64{}, r.IDs...)
	}
	return out
}

// pageSlice pages an in-memory list (rules are few per account) in either mode. pos
// gives each item's sort value; items are ordered by (value, id).
func pageSlice[T any](p pageReq, items []T, pos func(T) cursorPos) ([]T, listResult, error) {
	res := listResult{cursor: p.cursor, page: p.page, size: p.size, count: len(items)}
	keys := make([]cursorPos, len(items))
	idx := make([]int, len(items))
	for i, it := range items {
		keys[i], idx[i] = pos(it), i
	}
	less := func(a, b cursorPos) bool { return a.S < b.S || a.S == b.S && a.I < b.I }
	sort.SliceStable(idx, func(x, y int) bool {
		if p.desc {
			return less(keys[idx[y]], keys[idx[x]])
		}
		return less(keys[idx[x]], keys[idx[y]])
	})
	after := func(k, c cursorPos) bool { // k comes after c in the requested order
		if p.desc {
			return less(k, c)
		}
		return less(c, k)
	}
	var sel []int
	switch {
	case !p.cursor:
		start := min((p.page-1)*p.size, len(idx))
		end := min(start+p.size, len(idx))
		sel = idx[start:end]
		res.nextPage = end < len(idx)
	case p.before != "":
		c, err := decodeCursor(p.before)
		if err != nil {
			return nil, res, err
		}
		var prior []int
		for _, i := range idx {
			if after(c, keys[i]) {
				prior = append(prior, i)
			}
		}
		start := max(0, len(prior)-p.size)
		sel = prior[start:]
		res.hasMore, res.hasPrev = true, start > 0
	default:
		start := 0
		if p.after != "" {
			c, err := decodeCursor(p.after)
			if err != nil {
				return nil, res, err
			}
			for start < len(idx) && !after(keys[idx[start]], c) {
				start++
			}
			res.hasPrev = true
		}
		end := min(start+p.size, len(idx))
		sel = idx[start:end]
		res.hasMore = end < len(idx)
	}
	out := make([]T, len(sel))
	for i, j := range sel {
		out[i] = items[j]
	}
	if len(sel) > 0 {
		res.first, res.last = keys[sel[0]], keys[sel[len(sel)-1]]
	} else {
		res.empty = true
	}
	return out, res, nil
}

// decodeRule reads {"key": {...}} of a trigger, automation, macro or view.
func (a *rulesAPI) decodeRule(r *http.Request, key string) (*ruleIn, error) {
	in, err := decodeEnvelope[ruleIn](a.s, r, key)
	if err == nil && in == nil {
		err = errs.Invalidf(key, "BlankValue", "the body must be {%q: {...}}", key)
	}
	return in, err
}

// ruleRow is what lists of rules sort and page by.
type ruleRow struct {
	ID, Position     int64
	Title            string
	Created, Updated time.Time
}

// writeRulePage writes one page of triggers, automations, macros or views as {key: [...]}
// with the page keys, sorted as the request asks.
func writeRulePage[T any](w http.ResponseWriter, r *http.Request, c *Call, key string, list []T, row func(T) ruleRow, render func(*Call, T) map[string]any) error {
	p, err := parsePage(r, false)
	if err != nil {
		return err
	}
	alpha := alphaRanks(len(list), func(i int) int64 { return row(list[i]).ID }, func(i int) string { return row(list[i]).Title })
	page, res, err := pageSlice(p, list, func(x T) cursorPos {
		o := row(x)
		return rulePos(p.sortKey, o.ID, o.Position, o.Title, store.Micros(o.Created), store.Micros(o.Updated), alpha)
	})
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(page))
	for i, x := range page {
		out[i] = render(c, x)
	}
	body := map[string]any{key: out}
	addPageKeys(body, r, res)
	writeJSON(w, http.StatusOK, body)
	return nil
}

// writeCreatedRule answers 201 with a new rule as {key: obj} and its Location.
func writeCreatedRule(w http.ResponseWriter, key string, obj map[string]any) {
	w.Header().Set("Location", obj["url"].(string))
	writeJSON(w, http.StatusCreated, map[string]any{key: obj})
}

// rulePos orders rules by the sort parameter: position (default), alphabetical,
// created_at or updated_at.
func rulePos(key string, id int64, position int64, title string, created, updated int64, alpha map[int64]int64) cursorPos {
	switch key {
	case "alphabetical", "title":
		return cursorPos{S: alpha[id], I: id}
	case "created_at":
		return cursorPos{S: created, I: id}
	case "updated_at":
		return cursorPos{S: updated, I: id}
	}
	return cursorPos{S: position, I: id}
}

// alphaRanks ranks titles case-insensitively (for alphabetical sorting and cursors).
func alphaRanks(n int, id func(int) int64, title func(int) string) map[int64]int64 {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := strings.ToLower(title(order[a])), strings.ToLower(title(order[b]))
		return ta < tb || ta == tb && id(order[a]) < id(order[b])
	})
	out := make(map[int64]int64, n)
	for rank, i := range order {
		out[id(i)] = int64(rank)
	}
	return out
}

// queryBool reads an optional boolean query parameter.
func queryBool(r *http.Request, key string) (*bool, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, errs.E(errs.BadRequest, "Parameter %s must be true or false", key)
	}
	return &b, nil
}

// idsParam reads ids=1,2,3 for bulk endpoints (at most 100).
func idsParam(r *http.Request) ([]int64, error) {
	list, err := queryIDs(r, "ids", 100)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.Invalidf("ids", "BlankValue", "name at least one id")
	}
	return list, nil
}

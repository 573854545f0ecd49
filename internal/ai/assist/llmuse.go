package assist

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tandem/internal/account"
	"tandem/internal/ai/llm"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/kb"
	"tandem/internal/store"
)

// Model server states shown to admins.
const (
	LLMOK       = "ok"
	LLMDegraded = "degraded"
)

// degradedPause is how long the AI stays in local mode after a model server failure
// before it tries the server again (a health check from the admin page tries at once).
const degradedPause = time.Minute

// inlineBudget bounds a model server call made while someone waits for a page.
const inlineBudget = 3 * time.Second

func keyContext(acct ids.Account) string { return fmt.Sprintf("ai-llm-key:%d", acct) }

// usable returns a client when the account's model server is configured and not in
// its pause after a failure; nil means local mode.
func (s *Service) usable(acct *account.Account, c *Controls) *llm.Client {
	if !c.LLM.Configured() {
		return nil
	}
	if c.LLM.State == LLMDegraded && time.Since(store.Time(c.LLM.CheckedAt)) < degradedPause {
		return nil
	}
	cl, err := s.llmClient(acct, c)
	if err != nil {
		s.markLLM(acct.ID, err)
		return nil
	}
	return cl
}

// markLLM records the model server's state after a call: ok, or degraded with the
// reason (the admin page shows "AI degraded"). It writes in its own transaction, never
// in a ticket's.
func (s *Service) markLLM(acct ids.Account, callErr error) {
	state, msg := LLMOK, ""
	if callErr != nil {
		state, msg = LLMDegraded, callErr.Error()
		if errors.Is(callErr, errNoKey) {
			msg = "the model server's key cannot be opened with this server's secret key"
		}
		s.log.Warn("ai: model server degraded, local mode", "account", acct, "err", callErr)
	}
	err := s.db.Write(context.Background(), func(tx *store.Tx) error {
		if err := ensureControls(context.Background(), tx, acct); err != nil {
			return err
		}
		_, err := tx.ExecContext(context.Background(), `UPDATE ai_controls SET llm_state = ?, llm_error = ?, llm_checked_at = ? WHERE account_id = ?`,
			state, clip(msg, 500), store.Micros(store.Now()), acct)
		return err
	})
	if err != nil {
		s.log.Error("ai: record model server state", "account", acct, "err", err)
	}
}

var errNoKey = errors.New("assist: model server key unavailable")

// LLMInput is what an admin saves about the model server. Key "" keeps the stored
// key; ClearKey removes it.
type LLMInput struct {
	BaseURL, ChatModel, EmbedModel, Key string
	ClearKey                            bool
}

// SaveLLM stores the account's model server settings, the key sealed at rest. An
// empty base URL turns the model server off.
func (s *Service) SaveLLM(ctx context.Context, acct ids.Account, in LLMInput) error {
	base, err := checkBaseURL(in.BaseURL)
	if err != nil {
		return err
	}
	in.ChatModel, in.EmbedModel = strings.TrimSpace(in.ChatModel), strings.TrimSpace(in.EmbedModel)
	var v errs.Validation
	if base != "" && in.ChatModel == "" {
		v.Blank("chat_model")
	}
	if len(in.ChatModel) > 200 || len(in.EmbedModel) > 200 || len(in.Key) > 1000 {
		v.Bad("model", "names and key are at most 200 and 1000 characters")
	}
	if err := v.Err(); err != nil {
		return err
	}
	sealed := ""
	if in.Key != "" {
		if sealed, err = s.cfg.Secrets.Seal(in.Key, keyContext(acct)); err != nil {
			return errs.Invalidf("key", "InvalidValue", "cannot be stored: this server has no secret key (start it with --secret-key-file, env TANDEM_SECRET_KEY_FILE)")
		}
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := ensureControls(ctx, tx, acct); err != nil {
			return err
		}
		q := `UPDATE ai_controls SET llm_base_url = ?, llm_chat_model = ?, llm_embed_model = ?, llm_state = '', llm_error = '', llm_checked_at = 0, updated_at = ?`
		args := []any{base, in.ChatModel, in.EmbedModel, store.Micros(store.Now())}
		if in.Key != "" || in.ClearKey {
			q += `, llm_key = ?`
			args = append(args, sealed)
		}
		_, err := tx.ExecContext(ctx, q+` WHERE account_id = ?`, append(args, acct)...)
		if err != nil {
			return fmt.Errorf("assist: save model server: %w", err)
		}
		return nil
	})
}

// CheckLLM calls the model server's model list now and records its state.
func (s *Service) CheckLLM(ctx context.Context, acct *account.Account) error {
	c, err := LoadControls(ctx, s.db.R(), acct.ID)
	if err != nil {
		return err
	}
	if !c.LLM.Configured() {
		return errs.Invalidf("base_url", "BlankValue", "no model server is configured")
	}
	cl, err := s.llmClient(acct, c)
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, inlineBudget*3)
		err = cl.Health(cctx)
		cancel()
	} else {
		err = errNoKey
	}
	s.markLLM(acct.ID, err)
	return nil
}

// embeddings caches article vectors per account and translation version.
type embeddings struct {
	mu   sync.Mutex
	vecs map[embKey][]float32
}

type embKey struct {
	acct    ids.Account
	model   string
	trans   int64
	updated int64
}

func newEmbeddings() *embeddings { return &embeddings{vecs: map[embKey][]float32{}} }

// maxCached bounds the cache (it is emptied when full).
const maxCached = 50000

// rerank orders the ranker's candidates by embedding similarity with the ticket when
// the account's model server has an embeddings model; on any failure it keeps the
// ranker's order (local mode) and marks the server degraded.
func (s *Service) rerank(ctx context.Context, acct *account.Account, text string, res []kb.Result) []kb.Result {
	if len(res) < 2 {
		return res
	}
	c, err := LoadControls(ctx, s.db.R(), acct.ID)
	if err != nil || c.LLM.EmbedModel == "" {
		return res
	}
	cl := s.usable(acct, c)
	if cl == nil {
		return res
	}
	inputs := []string{clip(text, 4000)}
	var missing []int
	vec := make([][]float32, len(res))
	s.emb.mu.Lock()
	for i, r := range res {
		k := embKey{acct.ID, c.LLM.EmbedModel, r.Translation.ID, r.Translation.UpdatedAt.UnixMicro()}
		if v, ok := s.emb.vecs[k]; ok {
			vec[i] = v
		} else {
			missing = append(missing, i)
			inputs = append(inputs, clip(r.Translation.Title+"\n"+s.kb.PlainText(r.Translation.Body), 4000))
		}
	}
	s.emb.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, inlineBudget)
	out, err := cl.Embed(cctx, inputs)
	cancel()
	if err == nil {
		for _, v := range out[1:] {
			if len(v) != len(out[0]) {
				err = &llm.Error{Kind: llm.Malformed, Msg: "embeddings of different dimensions"}
			}
		}
	}
	if err != nil {
		s.markLLM(acct.ID, err)
		return res
	}
	if c.LLM.State != LLMOK {
		s.markLLM(acct.ID, nil)
	}
	s.emb.mu.Lock()
	if len(s.emb.vecs) > maxCached {
		s.emb.vecs = map[embKey][]float32{}
	}
	for j, i := range missing {
		vec[i] = out[j+1]
		r := res[i]
		s.emb.vecs[embKey{acct.ID, c.LLM.EmbedModel, r.Translation.ID, r.Translation.UpdatedAt.UnixMicro()}] = out[j+1]
	}
	s.emb.mu.Unlock()
	q := out[0]
	type scored struct {
		r   kb.Result
		sim float64
	}
	list := make([]scored, len(res))
	for i, r := range res {
		list[i] = scored{r, cosine(q, vec[i])}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].sim > list[j].sim })
	ranked := make([]kb.Result, len(list))
	for i, x := range list {
		ranked[i] = x.r
		ranked[i].Score = math.Max(x.sim, 0)
	}
	return ranked
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// clip shortens s to at most n bytes of valid UTF-8.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

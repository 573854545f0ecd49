package secretbox

import (
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	b, err := New("a server key of some length")
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.Seal("sk-secret", "ai-llm-key:1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "sk-secret") || !strings.HasPrefix(s, "v1:") {
		t.Fatalf("sealed value shows the secret or lacks its prefix: %q", s)
	}
	if got, err := b.Open(s, "ai-llm-key:1"); err != nil || got != "sk-secret" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := b.Open(s, "ai-llm-key:2"); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another account's context: %v", err)
	}
	other, _ := New("another server key entirely")
	if _, err := other.Open(s, "ai-llm-key:1"); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened with another key: %v", err)
	}
	if _, err := b.Open("v1:!!!", "x"); !errors.Is(err, ErrOpen) {
		t.Fatalf("garbage opened: %v", err)
	}
	none, _ := New("")
	if _, err := none.Seal("x", "c"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("sealed without a key: %v", err)
	}
	if _, err := New("short"); err == nil {
		t.Fatal("a short key was accepted")
	}
}

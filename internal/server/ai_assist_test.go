package server

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSecretKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, err := secretKey(Config{SecretKeyFile: path})
	if err != nil || len(k1) != 64 {
		t.Fatalf("new key: %q %v", k1, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if k2, err := secretKey(Config{SecretKeyFile: path}); err != nil || k2 != k1 {
		t.Fatalf("the key changed on the second start: %q %v", k2, err)
	}
	if k, err := secretKey(Config{SecretKey: "given directly, at least 16", SecretKeyFile: path}); err != nil || k != "given directly, at least 16" {
		t.Fatalf("a given key: %q %v", k, err)
	}
	if k, err := secretKey(Config{}); err != nil || k != "" {
		t.Fatalf("no key: %q %v", k, err)
	}
}

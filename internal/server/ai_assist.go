package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tandem/internal/ai"
	"tandem/internal/ai/assist"
	"tandem/internal/secretbox"
)

// secretKey reads the server's secret key (for secrets kept in the database, sealed by
// secretbox): Config.SecretKey, else the file named by
// Config.SecretKeyFile, created with a random key when it does not exist. With
// neither, no secret can be stored (the admin page says so).
func secretKey(cfg Config) (string, error) {
	if cfg.SecretKey != "" {
		return cfg.SecretKey, nil
	}
	if cfg.SecretKeyFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(cfg.SecretKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		key, made, err := makeKeyFile(cfg.SecretKeyFile)
		if err != nil || made {
			return key, err
		}
		b, err = os.ReadFile(cfg.SecretKeyFile) // another process made it first
		if err != nil {
			return "", fmt.Errorf("secret key file: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("secret key file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// secretBoxOf is the box that seals secrets kept in the database with the server key.
func secretBoxOf(cfg Config) (*secretbox.Box, error) {
	key, err := secretKey(cfg)
	if err != nil {
		return nil, err
	}
	return secretbox.New(key)
}

// makeKeyFile writes a new random key to path; made is false when the file appeared
// meanwhile (another process made it).
func makeKeyFile(path string) (key string, made bool, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	key = hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("secret key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("secret key file: %w", err)
	}
	_, err = f.WriteString(key + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", false, fmt.Errorf("secret key file: %w", err)
	}
	return key, true, nil
}

// newAssist builds the AI's assist half: suggestions, the autonomy ladder and the
// account's own model server. gate is the simulation's evidence (nil until one runs).
func (s *Server) newAssist(models ai.Source, gate ai.Gate) (*assist.Service, error) {
	box, err := secretBoxOf(s.cfg)
	if err != nil {
		return nil, err
	}
	return assist.New(s.db, s.Tickets, s.Accounts, s.KB, s.log, assist.Config{
		Models: models, Gate: gate, Actor: ai.Actor, Secrets: box, AllowPrivate: s.cfg.AllowPrivatePartners,
		AccountURL: func(sub string) string { return AccountURL(s.cfg, sub) },
	}), nil
}

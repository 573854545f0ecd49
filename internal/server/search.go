package server

import "tandem/internal/search"

func init() { extensions = append(extensions, setupSearch) }

// setupSearch mounts the search API over the database's own full-text index
// (migration 0004_search keeps it in step with every write).
func setupSearch(s *Server) error {
	s.API.MountSearch(search.New(s.db))
	return nil
}

package api

import "net/http"

// Placeholders replaced by users.go, orgs.go and groups.go.
func (s *Server) userRoutes(mux *http.ServeMux)  {}
func (s *Server) orgRoutes(mux *http.ServeMux)   {}
func (s *Server) groupRoutes(mux *http.ServeMux) {}

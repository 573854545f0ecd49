package api

import "net/http"

// Placeholders replaced by tickets.go, requests.go and jobs.go.
func (s *Server) ticketRoutes(mux *http.ServeMux)  {}
func (s *Server) requestRoutes(mux *http.ServeMux) {}
func (s *Server) jobRoutes(mux *http.ServeMux)     {}

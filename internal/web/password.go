package web

import (
	"net/http"
	"strings"

	"tandem/internal/clientaddr"
	"tandem/internal/errs"
)

// End users get a password by email (internal/signup): "Sign up" and "Forgot password"
// on the sign-in page and the help center mail a single-use link; following it sets the
// password. The pages answer the same whether or not an address has an account.

func (s *Server) passwordRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /signup", s.page(anyone, s.signupForm))
	mux.HandleFunc("POST /signup", s.page(anyone, s.signup))
	mux.HandleFunc("GET /password/forgot", s.page(anyone, s.forgotForm))
	mux.HandleFunc("POST /password/forgot", s.page(anyone, s.forgot))
	mux.HandleFunc("GET /password/set", s.page(anyone, s.setPasswordForm))
	mux.HandleFunc("POST /password/set", s.page(anyone, s.setPassword))
}

type passwordData struct {
	Name, Email string
	Token       string
	Sent        bool // the "check your mail" answer
	Error       string
}

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.render(w, r, c, http.StatusOK, "signup", page{Title: "Sign up", Area: "auth"})
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request, c *call) error {
	d := passwordData{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.TrimSpace(r.PostFormValue("email"))}
	if s.signups == nil {
		return errs.NotFoundf("Sign-up is not enabled on this server.")
	}
	err := s.signups.SignUp(r.Context(), c.Acct, d.Name, d.Email, clientaddr.FromRequest(r))
	if errs.Is(err, errs.Invalid) {
		d.Error = "Enter a valid email address."
		return s.render(w, r, c, http.StatusUnprocessableEntity, "signup", page{Title: "Sign up", Area: "auth", Data: d})
	}
	if err != nil {
		return err
	}
	d.Sent = true
	return s.render(w, r, c, http.StatusOK, "signup", page{Title: "Sign up", Area: "auth", Data: d})
}

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.render(w, r, c, http.StatusOK, "password_forgot", page{Title: "Forgot password", Area: "auth"})
}

func (s *Server) forgot(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.signups == nil {
		return errs.NotFoundf("Password reset is not enabled on this server.")
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	if err := s.signups.ForgotPassword(r.Context(), c.Acct, email, clientaddr.FromRequest(r)); err != nil {
		return err
	}
	return s.render(w, r, c, http.StatusOK, "password_forgot", page{Title: "Forgot password", Area: "auth", Data: passwordData{Email: email, Sent: true}})
}

func (s *Server) setPasswordForm(w http.ResponseWriter, r *http.Request, c *call) error {
	d := passwordData{Token: r.URL.Query().Get("token")}
	status := http.StatusOK
	if s.signups == nil {
		return errs.NotFoundf("Password links are not enabled on this server.")
	}
	if err := s.signups.Check(r.Context(), c.Acct, d.Token); err != nil {
		d.Error, d.Token, status = errorText(err), "", http.StatusGone
	}
	return s.render(w, r, c, status, "password_set", page{Title: "Choose a password", Area: "auth", Data: d})
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.signups == nil {
		return errs.NotFoundf("Password links are not enabled on this server.")
	}
	d := passwordData{Token: r.PostFormValue("token")}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		d.Error = "The two passwords differ."
		return s.render(w, r, c, http.StatusUnprocessableEntity, "password_set", page{Title: "Choose a password", Area: "auth", Data: d})
	}
	_, err := s.signups.SetPassword(r.Context(), c.Acct, d.Token, pw)
	if errs.Is(err, errs.Invalid) {
		d.Error = errorText(err)
		return s.render(w, r, c, http.StatusUnprocessableEntity, "password_set", page{Title: "Choose a password", Area: "auth", Data: d})
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/login", "Your password is set. Sign in with it.")
}

package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// enterKey presses Enter as a keyboard does: a key down and a key up, with no char
// event (chromedp's KeyEvent sends one even when the page cancels the key down, which
// a real keyboard never does).
var enterKey = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		})
		if err != nil {
			return err
		}
	}
	return nil
})

// TestBrowserMacroPickerNeedsAChoice: moving through the macro menu with the arrow keys
// applies nothing; Enter applies the highlighted macro once, and applying the same
// macro again with the Apply button does not paste its text a second time.
func TestBrowserMacroPickerNeedsAChoice(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	desk, _ := seededDemo(t)
	passwordFor(t, desk, "acme", "sam@acme.test")
	base := "http://" + desk.Host("acme")
	agent := b.tab()
	agent.signIn(base, "sam@acme.test", password)
	agent.open(base + "/agent/tickets/1")
	agent.waitText("Apply macro", false)

	comment := func() string { return agent.eval(`document.getElementById("comment").value`) }
	agent.do("arrow through the macros", chromedp.Focus(chromedp.CSS("#macro")),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent(kb.ArrowUp))
	if got := comment(); got != "" {
		t.Fatalf("moving over macros with the arrow keys applied one; the reply box holds %q", got)
	}
	if sel := agent.eval(`document.getElementById("macro").value`); sel == "" {
		t.Fatal("the arrow keys did not move through the macro menu")
	}
	text := agent.eval(`(function(){var s=document.getElementById("macro");return JSON.parse(s.options[s.selectedIndex].getAttribute("data-macro")).comment||""})()`)
	if text == "" {
		t.Fatal("the highlighted macro has no comment to apply")
	}

	agent.do("choose with Enter", chromedp.Focus(chromedp.CSS("#macro")), enterKey)
	if got := comment(); got != text {
		t.Fatalf("after Enter the reply box holds %q, want the macro's text %q", got, text)
	}

	// The same macro again, by the Apply button: its text is already there.
	agent.do("pick it again", chromedp.Focus(chromedp.CSS("#macro")),
		chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent(kb.ArrowUp))
	if got := comment(); got != text {
		t.Fatalf("moving over macros changed the reply box to %q", got)
	}
	agent.do("apply", chromedp.Click(chromedp.CSS("[data-apply-macro]")))
	if got := comment(); strings.Count(got, text) != 1 {
		t.Errorf("applying the macro twice left its text %d times in the reply box: %q", strings.Count(got, text), got)
	}
	if sel := agent.eval(`document.getElementById("macro").value`); sel != "" {
		t.Errorf("after applying, the menu still shows macro %q", sel)
	}
}

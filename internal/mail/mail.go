// Package mail sends Charge Star's emails (receipts, sign-in codes): a
// Mailer interface with an SMTP implementation and, by default, one that
// writes the messages to the log (a fresh install or the demo has no mail
// server, and a lost receipt email must not stop anything).
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string // e.g. "receipt-K7QM-4XPD.pdf"
	ContentType string // e.g. "application/pdf"
	Data        []byte
}

// Message is one email.
type Message struct {
	To          string
	Subject     string
	Text        string // plain-text body
	HTML        string // optional HTML alternative
	Attachments []Attachment
}

// Mailer sends messages.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// ErrBadAddress: the recipient is not a valid address.
var ErrBadAddress = errors.New("mail: invalid address")

// CheckAddress validates a recipient address (a bare address, no name).
func CheckAddress(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || len(addr) > 254 {
		return fmt.Errorf("%w: %q", ErrBadAddress, addr)
	}
	return nil
}

// LogMailer writes every message to the log instead of sending it, and
// keeps the last ones for tests and the demo.
type LogMailer struct {
	Log *slog.Logger

	mu   sync.Mutex
	sent []Message
}

// Send implements Mailer.
func (l *LogMailer) Send(_ context.Context, m Message) error {
	if err := CheckAddress(m.To); err != nil {
		return err
	}
	if l.Log != nil {
		names := make([]string, len(m.Attachments))
		for i, a := range m.Attachments {
			names[i] = a.Name
		}
		l.Log.Info("email (log mailer: not sent)", "to", m.To, "subject", m.Subject, "attachments", strings.Join(names, ","), "text", m.Text)
	}
	l.mu.Lock()
	l.sent = append(l.sent, m)
	if len(l.sent) > 100 {
		l.sent = l.sent[len(l.sent)-100:]
	}
	l.mu.Unlock()
	return nil
}

// Sent returns the messages logged so far (the last 100).
func (l *LogMailer) Sent() []Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Message(nil), l.sent...)
}

// SMTPMailer sends through an SMTP server (STARTTLS when offered).
type SMTPMailer struct {
	Addr     string // host:port
	Username string // "" for no authentication
	Password string
	From     string // e.g. "NextCharge <receipts@nextcharge.example>"
	Timeout  time.Duration
}

// Send implements Mailer.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	if err := CheckAddress(m.To); err != nil {
		return err
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("mail: bad sender %q: %w", s.From, err)
	}
	body, err := Compose(s.From, m, time.Now())
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mail: connecting to %s: %w", s.Addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(tlsConfig(host)); err != nil {
			return fmt.Errorf("mail: STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("mail: authentication: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := wc.Write(body); err != nil {
		return fmt.Errorf("mail: writing: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	return c.Quit()
}

// Compose renders m as an RFC 5322 message: text (and HTML) alternatives,
// attachments, quoted-printable and base64 bodies, encoded headers.
func Compose(from string, m Message, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", now.Format(time.RFC1123Z))
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := "chargestar.local"
	if a, err := mail.ParseAddress(from); err == nil {
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
			domain = a.Address[at+1:]
		}
	}
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	h("MIME-Version", "1.0")
	mw := multipart.NewWriter(&buf)
	h("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	buf.WriteString("\r\n")
	alt := &bytes.Buffer{}
	aw := multipart.NewWriter(alt)
	if err := qpPart(aw, "text/plain; charset=utf-8", m.Text); err != nil {
		return nil, err
	}
	if m.HTML != "" {
		if err := qpPart(aw, "text/html; charset=utf-8", m.HTML); err != nil {
			return nil, err
		}
	}
	aw.Close()
	p, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/alternative; boundary=" + aw.Boundary()}})
	if err != nil {
		return nil, err
	}
	p.Write(alt.Bytes())
	for _, a := range m.Attachments {
		p, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(a.ContentType, map[string]string{"name": a.Name})},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			p.Write([]byte(enc[:76] + "\r\n"))
			enc = enc[76:]
		}
		p.Write([]byte(enc + "\r\n"))
	}
	mw.Close()
	return buf.Bytes(), nil
}

func qpPart(w *multipart.Writer, ctype, text string) error {
	p, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
	if err != nil {
		return err
	}
	q := quotedprintable.NewWriter(p)
	if _, err := q.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n"))); err != nil {
		return err
	}
	return q.Close()
}

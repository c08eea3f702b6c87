"""E-mail: the outbox's messages to users who left an e-mail address, sent over SMTP by
`dialoga worker`.

- texts.py: what the e-mails say, in Italian and English;
- message.py: one outbox message as a multipart text + HTML e-mail (Jinja2 templates in
  templates/, autoescaped), threaded per ticket, with the link to the follow-up page;
- smtp.py: sending over SMTP (STARTTLS or implicit TLS, certificate checked) and what each
  refusal means (5xx fails at once, 4xx and network errors are retried);
- delivery.py: a round of the worker: e-mail copies of unread widget replies, then every due
  e-mail, each claimed with a lease so that several workers never send the same one."""

/*
 * dref-cclient-probe: an IMAP client on UW c-client that follows login
 * referrals the way c-client applications (Alpine) do, for the integration
 * tests (tests/integration/login/clients/test_login_clients.py, issue 11).
 *
 *   DREF_PROBE_PASSWORD=secret dref-cclient-probe HOST PORT USER [MAILBOX]
 *
 * It opens {HOST:PORT/imap/notls/user=USER}INBOX with c-client's own IMAP
 * driver and PLAIN authenticator.  c-client calls the referral callback
 * below for a login referral (NO [REFERRAL] = REFAUTHFAILED, OK [REFERRAL] =
 * REFAUTH); the callback turns a server-only imap:// URL into a c-client
 * mailbox name and c-client reconnects there with the same password (from
 * mm_login).  The probe then reports, one line each on stdout:
 *
 *   referral <REFAUTH|REFAUTHFAILED|code N> <url>   each callback
 *   follow <mailbox>  |  refuse <why>                its answer
 *   opened <c-client's name of the open stream>      where it ended
 *   messages <n>
 *   subject <Subject of message 1>
 *   ready
 *
 * and stays connected (the test checks the session on the server side)
 * until stdin says "quit" or closes; then "closed" and exit 0.  A failed
 * open prints "failed" (after c-client's own "log ..." lines) and exits 1.
 * Every c-client error or warning is printed as "log <LEVEL> <text>".
 * DREF_PROBE_DEBUG=1 adds c-client's protocol trace on stderr.
 *
 * With MAILBOX (mailbox referrals, RFC 2193; issue 12), after INBOX is open
 * the probe lists MAILBOX as c-client does (mail_list: RLIST, since the
 * server announces MAILBOX-REFERRALS, which opts the session in), prints
 * "list <name>" for each answer, then opens MAILBOX on the same stream.  A
 * NO [REFERRAL] to that SELECT reaches the callback as REFSELECT; a
 * mailbox URL of printable ASCII is followed as {host:port/...}mailbox, and
 * the "opened" and "messages" lines then describe the referred mailbox.
 *
 * The password comes from the environment so that it is not on the command
 * line (ps).  Plaintext only: the lab runs without TLS (/notls keeps
 * c-client from trying STARTTLS on a server that offers it).
 */
/* c-client's osdep.h asks for _BSD_SOURCE, which glibc only accepts next to
 * _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE 1
#include <c-client.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char* probe_password = "";

static void say(const char* key, const char* value) {
  printf("%s %s\n", key, value ? value : "");
  fflush(stdout);
}

/* Percent-decoding of one URL component (RFC 3986 §2.1); 0 on a malformed
 * escape or an output that does not fit. */
static int pct_decode(const char* in, size_t len, char* out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned int c = (unsigned char)in[i];
    if (c == '%') {
      if (i + 2 >= len || !isxdigit((unsigned char)in[i + 1]) ||
          !isxdigit((unsigned char)in[i + 2]))
        return 0;
      char hex[3] = {in[i + 1], in[i + 2], 0};
      c = (unsigned int)strtoul(hex, NULL, 16);
      i += 2;
    }
    if (o + 1 >= cap) return 0;
    out[o++] = (char)c;
  }
  out[o] = 0;
  return 1;
}

/* Characters that would end or confuse a c-client "{host:port/flags}"
 * name or its /user= value: such a URL is not followed. */
static int safe_for_mailbox_name(const char* s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x21 || c == 0x7f || c == '{' || c == '}' || c == '/' || c == '"' || c == '\\')
      return 0;
  }
  return 1;
}

/* A mailbox name from a URL's path (percent-decoded) that c-client can
 * take after "}" as it is: printable ASCII without quotes or braces (a
 * UTF-8 name would need modified UTF-7 first, which the probe does not do). */
static int safe_mailbox_path(const char* s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c >= 0x7f || c == '{' || c == '}' || c == '"' || c == '\\') return 0;
  }
  return 1;
}

/* imap://[user[;AUTH=mech]@]host[:port]/[mailbox]
 *   ->  {host:port/imap/notls/user=user}[mailbox]
 * A login referral names a server, and Alpine too follows a login referral
 * only to a server-only URL: a mailbox is accepted only when
 * `with_mailbox` (a mailbox referral).  Returns a string c-client owns
 * (cpystr), or NIL to not follow. */
static char* mailbox_from_url(const char* url, int with_mailbox, const char** why) {
  static const char scheme[] = "imap://";
  char user[NETMAXUSER] = "", host[NETMAXHOST] = "", port[8] = "";
  if (strncasecmp(url, scheme, sizeof scheme - 1) != 0) {
    *why = "not an imap:// URL";
    return NIL;
  }
  const char* p = url + sizeof scheme - 1;
  const char* slash = strchr(p, '/');
  if (!slash || (slash[1] != 0 && !with_mailbox)) {
    *why = "not a server-only URL";
    return NIL;
  }
  char mailbox[MAILTMPLEN] = "";
  if (slash[1] != 0 &&
      (!pct_decode(slash + 1, strlen(slash + 1), mailbox, sizeof mailbox) ||
       !safe_mailbox_path(mailbox))) {
    *why = "mailbox in URL is not printable ASCII";
    return NIL;
  }
  const char* at = memchr(p, '@', (size_t)(slash - p));
  if (at) {
    /* iuserinfo: enc-user [";AUTH=" ( "*" / enc-auth-type )] (RFC 5092);
     * c-client picks the mechanism itself, so ";AUTH=..." is dropped. */
    const char* semi = memchr(p, ';', (size_t)(at - p));
    const char* user_end = semi ? semi : at;
    if (!pct_decode(p, (size_t)(user_end - p), user, sizeof user)) {
      *why = "bad user in URL";
      return NIL;
    }
    p = at + 1;
  }
  const char* host_end;
  if (*p == '[') {
    host_end = memchr(p, ']', (size_t)(slash - p));
    if (!host_end) {
      *why = "bad IPv6 literal";
      return NIL;
    }
    host_end++;
  } else {
    host_end = memchr(p, ':', (size_t)(slash - p));
    if (!host_end) host_end = slash;
  }
  if ((size_t)(host_end - p) >= sizeof host || host_end == p) {
    *why = "bad host in URL";
    return NIL;
  }
  memcpy(host, p, (size_t)(host_end - p));
  host[host_end - p] = 0;
  if (*host_end == ':') {
    size_t n = (size_t)(slash - host_end - 1);
    if (n == 0 || n >= sizeof port || strspn(host_end + 1, "0123456789") < n) {
      *why = "bad port in URL";
      return NIL;
    }
    memcpy(port, host_end + 1, n);
    port[n] = 0;
  }
  if (!safe_for_mailbox_name(host) || !safe_for_mailbox_name(user)) {
    *why = "URL has characters a c-client name cannot carry";
    return NIL;
  }
  char name[MAILTMPLEN];
  int n = snprintf(name, sizeof name, "{%s%s%s/imap/notls%s%s}%s", host, port[0] ? ":" : "",
                   port, user[0] ? "/user=" : "", user, mailbox);
  if (n < 0 || (size_t)n >= sizeof name) {
    *why = "URL too long";
    return NIL;
  }
  return cpystr(name);
}

/* The referral callback (mail_parameters SET_IMAPREFERRAL): what c-client
 * asks an application when a server answers with [REFERRAL url]. */
static char* probe_referral(MAILSTREAM* stream, char* url, long code) {
  (void)stream;
  char codename[32];
  if (code == REFAUTH)
    strcpy(codename, "REFAUTH");
  else if (code == REFAUTHFAILED)
    strcpy(codename, "REFAUTHFAILED");
  else if (code == REFSELECT)
    strcpy(codename, "REFSELECT");
  else
    snprintf(codename, sizeof codename, "code%ld", code);
  printf("referral %s %s\n", codename, url ? url : "");
  fflush(stdout);
  if (code != REFAUTH && code != REFAUTHFAILED && code != REFSELECT) {
    say("refuse", "not a login or select referral");
    return NIL;
  }
  const char* why = "";
  char* name = url ? mailbox_from_url(url, code == REFSELECT, &why) : NIL;
  if (name)
    say("follow", name);
  else
    say("refuse", why);
  return name;
}

/* ---- the callbacks every c-client application provides ---- */

void mm_login(NETMBX* mb, char* user, char* pwd, long trial) {
  /* c-client asks again after a failed attempt (up to its login trial
   * limit, 3) and also after a NO [REFERRAL] to AUTHENTICATE (D-14): the
   * probe answers like a user who types the same password again. */
  (void)trial;
  strncpy(user, mb->user, NETMAXUSER - 1);
  user[NETMAXUSER - 1] = 0;
  strncpy(pwd, probe_password, MAILTMPLEN - 1);
  pwd[MAILTMPLEN - 1] = 0;
}

void mm_log(char* string, long errflg) {
  const char* level = errflg == ERROR ? "ERROR" : errflg == WARN ? "WARN"
                    : errflg == PARSE ? "PARSE" : "INFO";
  printf("log %s %s\n", level, string);
  fflush(stdout);
}

void mm_dlog(char* string) { fprintf(stderr, "%s\n", string); }
void mm_notify(MAILSTREAM* stream, char* string, long errflg) {
  (void)stream;
  mm_log(string, errflg);
}
void mm_fatal(char* string) {
  printf("log FATAL %s\n", string);
  fflush(stdout);
}
void mm_searched(MAILSTREAM* s, unsigned long n) { (void)s; (void)n; }
void mm_exists(MAILSTREAM* s, unsigned long n) { (void)s; (void)n; }
void mm_expunged(MAILSTREAM* s, unsigned long n) { (void)s; (void)n; }
void mm_flags(MAILSTREAM* s, unsigned long n) { (void)s; (void)n; }
void mm_list(MAILSTREAM* s, int d, char* n, long a) {
  (void)s; (void)d; (void)a;
  say("list", n);
}
void mm_lsub(MAILSTREAM* s, int d, char* n, long a) { (void)s; (void)d; (void)n; (void)a; }
void mm_status(MAILSTREAM* s, char* m, MAILSTATUS* st) { (void)s; (void)m; (void)st; }
void mm_critical(MAILSTREAM* s) { (void)s; }
void mm_nocritical(MAILSTREAM* s) { (void)s; }
long mm_diskerror(MAILSTREAM* s, long e, long serious) {
  (void)s; (void)e; (void)serious;
  return T; /* never asked for IMAP; abort rather than retry */
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: DREF_PROBE_PASSWORD=... %s HOST PORT USER [MAILBOX]\n", argv[0]);
    return 2;
  }
  const char* mailbox = argc == 5 ? argv[4] : NIL;
  const char* pw = getenv("DREF_PROBE_PASSWORD");
  if (!pw) {
    fprintf(stderr, "%s: DREF_PROBE_PASSWORD is not set\n", argv[0]);
    return 2;
  }
  probe_password = pw;
  if (!safe_for_mailbox_name(argv[1]) || !safe_for_mailbox_name(argv[3]) ||
      strspn(argv[2], "0123456789") != strlen(argv[2]) || !argv[2][0] ||
      (mailbox && (!mailbox[0] || !safe_mailbox_path(mailbox) || strchr(mailbox, '%') ||
                   strchr(mailbox, '*')))) {
    fprintf(stderr, "%s: bad HOST, PORT, USER or MAILBOX\n", argv[0]);
    return 2;
  }

  /* Only what an IMAP client needs: the IMAP driver and PLAIN.  Nothing
   * else registered, so c-client cannot wander to rsh, GSSAPI or local
   * files; no DNS, so a numeric lab address stays what it is. */
  mail_link(&imapdriver);
  auth_link(&auth_pla);
  mail_parameters(NIL, SET_RSHTIMEOUT, (void*)0);
  mail_parameters(NIL, SET_TRUSTDNS, (void*)0);
  mail_parameters(NIL, SET_OPENTIMEOUT, (void*)15);
  mail_parameters(NIL, SET_READTIMEOUT, (void*)30);
  mail_parameters(NIL, SET_IMAPREFERRAL, (void*)probe_referral);

  char name[MAILTMPLEN];
  snprintf(name, sizeof name, "{%s:%s/imap/notls/user=%s}INBOX", argv[1], argv[2], argv[3]);
  long options = getenv("DREF_PROBE_DEBUG") ? OP_DEBUG : NIL;
  MAILSTREAM* stream = mail_open(NIL, name, options);
  if (!stream) {
    say("failed", name);
    return 1;
  }
  if (mailbox) {
    /* c-client's own listing: RLIST on a MAILBOX-REFERRALS server. */
    char ref[MAILTMPLEN];
    snprintf(ref, sizeof ref, "{%s:%s/imap/notls/user=%s}", argv[1], argv[2], argv[3]);
    mail_list(stream, ref, (char*)mailbox);
    snprintf(name, sizeof name, "{%s:%s/imap/notls/user=%s}%s", argv[1], argv[2], argv[3],
             mailbox);
    stream = mail_open(stream, name, options);
    if (!stream) {
      say("failed", name);
      return 1;
    }
  }
  say("opened", stream->mailbox);
  char count[32];
  snprintf(count, sizeof count, "%lu", stream->nmsgs);
  say("messages", count);
  if (stream->nmsgs > 0) {
    ENVELOPE* env = mail_fetchenvelope(stream, 1);
    say("subject", env && env->subject ? env->subject : "");
  }
  say("ready", "");

  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "quit", 4) == 0) break;
  }
  mail_close(stream);
  say("closed", "");
  return 0;
}

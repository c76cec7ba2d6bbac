import type { PageContext } from '../context.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';

/** The sign-in page; the client script posts to `POST /api/v1/session` and follows `next`. */
export function loginPage(
  ctx: PageContext,
  options: { next: string; notice?: 'passwordChanged' | 'signedOut' },
): Html {
  const { t } = ctx;
  const body = html`<section class="login-card" aria-labelledby="login-title">
<h1 id="login-title">${t('login.title')}</h1>
<p class="intro">${t('login.intro')}</p>
${options.notice ? html`<p class="banner banner-success" role="status" data-testid="login-notice">${t(`login.${options.notice}`)}</p>` : ''}
<form id="login-form" class="form" method="post" novalidate data-next="${options.next}">
<div class="form-error" id="login-error" role="alert" data-testid="login-error" hidden></div>
<div class="field">
<label for="username">${t('login.username')}</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus data-testid="login-username">
</div>
<div class="field">
<label for="password">${t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required data-testid="login-password">
<p class="help">${t('login.passwordHelp')}</p>
</div>
<div class="actions"><button type="submit" class="button-primary" data-testid="login-submit">${t('login.submit')}</button></div>
</form>
</section>`;
  return layout(ctx, { title: t('login.title'), page: 'login', body });
}

/**
 * The local path to return to after signing in; anything else (another origin, a
 * protocol-relative `//host`, a backslash trick) falls back to the links page.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string') return '/admin/applinks';
  // Browsers drop tabs and newlines from URLs, so "/\t/evil" would become "//evil".
  if (!next.startsWith('/') || /[\\\s]/.test(next) || hasControlCharacter(next)) {
    return '/admin/applinks';
  }
  if (next.startsWith('//')) return '/admin/applinks';
  if (next.startsWith('/api/') || next.startsWith('/login')) return '/admin/applinks';
  return next.slice(0, 2048);
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

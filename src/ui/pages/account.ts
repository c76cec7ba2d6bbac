import { pageHeader } from '../components.js';
import type { PageContext } from '../context.js';
import { field, formError } from '../form.js';
import { type Html, html } from '../html.js';
import { layout } from '../layout.js';

/** The signed-in administrator's password change; every session ends after it. */
export function accountPage(ctx: PageContext): Html {
  const { t } = ctx;
  const body = html`${pageHeader(t('account.title'), undefined, t('account.intro', { name: ctx.user?.name ?? '' }))}
<section class="section card" aria-labelledby="password-title">
<h2 id="password-title">${t('account.changePassword')}</h2>
<form id="password-form" class="form" method="post" novalidate data-testid="password-form">
${formError('password-form-error')}
${field({ name: 'currentPassword', label: t('account.currentPassword'), type: 'password', required: true, autocomplete: 'current-password' })}
${field({ name: 'newPassword', label: t('account.newPassword'), help: t('account.newPasswordHelp'), type: 'password', required: true, autocomplete: 'new-password', extra: { minlength: '12' } })}
${field({ name: 'confirmPassword', label: t('account.confirmPassword'), type: 'password', required: true, autocomplete: 'new-password' })}
<div class="actions"><button type="submit" class="button-primary" data-testid="password-submit">${t('account.submit')}</button></div>
</form>
</section>`;
  return layout(ctx, { title: t('account.title'), active: 'account', page: 'account', body });
}

/** A page for an address that names nothing (an unknown link id, say). */
export function notFoundPage(ctx: PageContext): Html {
  const { t } = ctx;
  const body = html`${pageHeader(t('notFound.title'), undefined, t('notFound.body'))}
<p><a href="/admin/applinks">${t('notFound.back')}</a></p>`;
  return layout(ctx, { title: t('notFound.title'), page: 'not-found', body });
}

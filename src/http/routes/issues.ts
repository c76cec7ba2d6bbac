import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { downloadHeaders, presentIssue, presentIssueSummary } from '../../presenters/issues.js';
import { authErrors, errorResponses, ListOf, validationErrors } from '../../schemas/common.js';
import {
  AttachmentParams,
  Issue,
  IssueParams,
  IssueQuery,
  IssueSummary,
} from '../../schemas/issues.js';
import type { Services } from '../../services/index.js';

/** Issues made from email (DESIGN §8): the list, one issue, and its attachments as downloads. */
export function issueRoutes(app: FastifyInstance, { issues }: Pick<Services, 'issues'>): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/v1/issues', {
    schema: {
      tags: ['issues'],
      summary: 'Issues made from email, newest first, found by text or reporter',
      querystring: IssueQuery,
      response: { 200: ListOf(IssueSummary), ...authErrors, ...validationErrors },
    },
    handler: async (req) => {
      const { q, reporter, limit, cursor } = req.query;
      const { items, nextCursor } = await issues.list({
        ...(q ? { q } : {}),
        ...(reporter ? { reporter } : {}),
        limit: limit ?? 50,
        ...(cursor ? { cursor } : {}),
      });
      return { items: items.map(presentIssueSummary), ...(nextCursor ? { nextCursor } : {}) };
    },
  });

  r.get('/api/v1/issues/:key', {
    schema: {
      tags: ['issues'],
      summary: 'An issue with its comments, its attachments and the mail it came from',
      params: IssueParams,
      response: { 200: Issue, ...authErrors, ...validationErrors, ...errorResponses(404) },
    },
    handler: async (req) => presentIssue(await issues.get(req.params.key)),
  });

  r.get('/api/v1/issues/:key/attachments/:id', {
    schema: {
      tags: ['issues'],
      summary:
        "An attachment's bytes, always as a download (application/octet-stream, nosniff): the sender's type is not trusted",
      params: AttachmentParams,
      response: {
        200: {
          description: 'The attachment',
          content: {
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        ...authErrors,
        ...validationErrors,
        ...errorResponses(404),
      },
    },
    handler: async (req, reply) => {
      const attachment = await issues.attachment(req.params.key, req.params.id);
      return reply.headers(downloadHeaders(attachment)).send(attachment.content);
    },
  });
}

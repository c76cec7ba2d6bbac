import { type Static, Type } from '@sinclair/typebox';
import { DiagnosticIds, DiagnosticStatuses } from '../domain/diagnosis.js';
import { OneOf } from './common.js';

/** One check of diagnose, in the reader's language (DESIGN §8, issue 13 item 1). */
export const DiagnosticCheckResponse = Type.Object({
  id: OneOf(DiagnosticIds),
  status: OneOf(DiagnosticStatuses),
  subject: Type.Optional(Type.String()),
  message: Type.String(),
  remedy: Type.Optional(Type.String()),
});

/** `POST /api/v1/links/:id/diagnose`: every check, in order of priority. */
export const DiagnosisResponse = Type.Object({
  linkId: Type.String(),
  linkName: Type.String(),
  checks: Type.Array(DiagnosticCheckResponse),
});
export type DiagnosisJson = Static<typeof DiagnosisResponse>;

import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import fp from 'fastify-plugin';
import { compileValidator } from '../../domain/validation.js';

/**
 * Validates every route part with TypeBox (the one schema language), so HTTP and CLI input
 * fail with the same catalog codes. Bodies are checked as sent; query strings and path
 * parameters are converted from strings first.
 */
export const validatorPlugin = fp(
  async (app: FastifyInstance) => {
    app.setValidatorCompiler(typeboxValidatorCompiler);
  },
  { name: 'outlink-validator', fastify: '5.x' },
);

export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validate = compileValidator(schema, { convert: httpPart !== 'body' });
  return (value: unknown) => {
    try {
      return { value: validate(value) };
    } catch (error) {
      return { error: error as Error };
    }
  };
};

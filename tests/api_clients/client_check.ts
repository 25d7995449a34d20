// What a TypeScript client of the API writes, against the types openapi-typescript
// generates from the schema with its default options. test_schema_lint.py copies this
// file beside the generated schema.d.ts and compiles it with `tsc --strict --noEmit`:
// if the schema makes ordinary client code fail to type-check, the test fails.
//
// Operations are named by operationId, not by path, so that a path prefix can change.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
type JsonBody<Op extends keyof operations> = NonNullable<
  operations[Op]["requestBody"]
>["content"]["application/json"];
type Answer<
  Op extends keyof operations,
  Status extends keyof operations[Op]["responses"],
  Media extends string = "application/json",
> = operations[Op]["responses"][Status] extends { content: infer C }
  ? Media extends keyof C
    ? C[Media]
    : never
  : never;

// Request bodies with only the fields the API requires: the server fills in the rest
// (confirm_overpayment, full, return_date, ... have defaults).
const payment: Schemas["PaymentCreateRequest"] = { customer: 1, amount: "3.00" };
const rent: Schemas["RentalCreateRequest"] = { customer: 1, film: 1 };
const giveBack: Schemas["RentalReturnRequest"] = {};
const startRun: Schemas["PipelineRunCreateRequest"] = {};
// The operations take those very bodies.
export const bodies: [
  JsonBody<"payments_create">,
  JsonBody<"rentals_create">,
  JsonBody<"rentals_return_create">,
  JsonBody<"lake_runs_create">,
] = [payment, rent, giveBack, startRun];

// A header an operation documents: the same payment sent again is not written twice.
export const paymentHeaders: NonNullable<operations["payments_create"]["parameters"]["header"]> = {
  "Idempotency-Key": "5f0c8a4e-2b7d-4c1e-9a3f-6d2e8b1c4a70",
};

// Reading answers: who the token is, a rental's status, a customer's balance, a page of rentals.
export function storeOf(me: Answer<"me_retrieve", 200>): number | undefined {
  return me.store?.id;
}
export function isOpen(rental: Schemas["Rental"]): boolean {
  return rental.status === "open";
}
export function openRentalIds(page: Answer<"rentals_list", 200>): number[] {
  return page.results.filter(isOpen).map((rental) => rental.id);
}
export function owes(customer: Answer<"customers_retrieve", 200>): boolean {
  return Number(customer.balance) > 0;
}

// Reading errors: a refused payment names the fields at fault (RFC 9457 problem
// details, application/problem+json); a refused run names the run that is active.
export function fieldsAtFault(problem: Answer<"payments_create", 400, "application/problem+json">): string[] {
  return problem.errors.flatMap((error) => (error.attr === null ? [] : [error.attr]));
}
export function problemCode(problem: Schemas["Problem"]): string {
  return `${problem.status} ${problem.code}: ${problem.detail}`;
}
export function activeRunId(conflict: Answer<"lake_runs_create", 409, "application/problem+json">): number | undefined {
  return conflict.active_run?.id;
}

import type { BaseModelAdapter, KnownModelSet } from '../adapter/contract.js';
import { AmbiguousModelError, ModelNotFoundError } from '../errors.js';
import { describeContexts, selectByNameAndContext } from '../manager/selection.js';

export interface KnownModelSetQuery {
  setName?: string;
  context?: number;
}

/**
 * The published set of an adapter that a `models pull` request means. Without a context the
 * largest is taken (the most accurate model of a family), as `ModelManager.resolve` does for files
 * on disk; several set names at that context are ambiguous rather than guessed, because pulling
 * the wrong species costs a download. The errors list what the catalogue does publish.
 */
export function selectKnownModelSet(adapter: BaseModelAdapter, query: KnownModelSetQuery = {}): KnownModelSet {
  const catalogue = adapter.catalogue ?? [];
  if (catalogue.length === 0) {
    throw new ModelNotFoundError(`the ${adapter.displayName} adapter (${adapter.id}) publishes no downloadable model sets`, {
      hint: 'put the files under the models folder yourself; see the adapter README for where to get them',
    });
  }
  const candidates = selectByNameAndContext(
    catalogue,
    query,
    (k) => k.setName,
    (k) => k.context,
  );
  if (candidates.length === 0) {
    const what = [query.setName && `set ${query.setName}`, query.context !== undefined && `context ${query.context}`].filter(Boolean).join(' at ');
    throw new ModelNotFoundError(`${adapter.id} publishes no ${what}; published: ${describeCatalogue(catalogue)}`, {
      hint: 'pick one of the published sets with --set and --context',
    });
  }
  if (candidates.length > 1) {
    throw new AmbiguousModelError(`${candidates.length} published ${adapter.id} sets match: ${describeCatalogue(candidates)}`, {
      hint: `choose one with --set (${candidates.map((k) => k.setName).join(' or ')})`,
    });
  }
  return candidates[0];
}

/** "openspliceai-mane at 80, 400, 2000, 10000; openspliceai-mouse at 10000". */
export function describeCatalogue(sets: readonly KnownModelSet[]): string {
  return describeContexts(sets.map((k) => ({ name: k.setName, context: k.context })));
}
